// Reads a WAL directory into the engine's order state, the way the engine replays it at start.
import { stateReplayHandler } from '@veloz/engine/engine/replay-handler';
import { EngineState } from '@veloz/engine/engine/state';
import { recoverWal } from '@veloz/wal/recovery';

export async function walState(dir: string): Promise<EngineState> {
  const state = new EngineState(10_000_000);
  await recoverWal(dir, 'strict', stateReplayHandler(state));
  return state;
}
