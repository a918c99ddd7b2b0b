// One desk's screen, as `kubectl veloz status` prints it, for every place that shows a desk live:
// `status --watch` and `npm start`'s view of the quickstart desk.
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { observeDesk } from './desk-read.ts';
import { deskStatus } from './desk-status.ts';
import type { Paint } from './output.ts';
import { statusText } from './status-text.ts';
import { strategiesText, strategyView } from './strategies.ts';

export { COLOUR, PLAIN, paintFor, type Paint } from './output.ts';

export interface DeskScreen {
  text: string;
  /** Pairs whose engine could not be read: the totals leave them out. */
  incomplete: number[];
}

/** The desk's status as text, with its VelozStrategies when `withStrategies`. */
export async function deskScreen(
  c: KubeClient,
  ns: string,
  name: string,
  paint: Paint,
  opts: { now?: number; withStrategies?: boolean } = {},
): Promise<DeskScreen> {
  const now = opts.now ?? Date.now();
  const s = deskStatus(await observeDesk(c, ns, name, now));
  let text = statusText(s, paint, now);
  if (opts.withStrategies) {
    const list = (await c.list(RESOURCES.velozStrategy, ns)).items
      .map(strategyView)
      .filter((v) => v.deployment === name);
    text += `\n${paint.bold('Strategies')}\n${strategiesText(list, paint)}`;
  }
  return { text, incomplete: s.incomplete };
}

/**
 * What to write to a terminal to show `screen` in place of the last one: home, each line cleared
 * to its end, then the rest of the screen cleared. Unlike clearing first, nothing flickers and the
 * terminal's scrollback does not fill with one old screen per refresh.
 */
export function inPlace(screen: string): string {
  const body = screen.replace(/\n$/, '').split('\n').join('\u001b[K\n');
  return `\u001b[H${body}\u001b[K\n\u001b[J`;
}
