import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EngineUnreachableError, type EngineAccess, type EngineResponse } from './engine-access.ts';
import { parseReconciliation, parseWalStatus, WalObserver } from './wal-observer.ts';

/** Engines by pod name: an answer body, or an Error for an engine that cannot be reached. */
function engines(answers: Map<string, unknown>, calls: string[] = []): EngineAccess {
  return {
    call: <T>(_ns: string, pod: string, method: string, path: string): Promise<EngineResponse<T>> => {
      calls.push(`${method} ${pod}${path}`);
      const a = answers.get(pod);
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve({ status: 200, body: a as T });
    },
  };
}

const log = pino({ level: 'silent' });

describe('parseWalStatus', () => {
  it.each([
    [{ durableSequence: 42, lastCheckpoint: null }, { walEntries: 42 }],
    [
      { durableSequence: 7, lastCheckpoint: { sequence: 5, time: '2026-11-21T10:00:00.000Z' } },
      { walEntries: 7, lastCheckpoint: '2026-11-21T10:00:00.000Z' },
    ],
    [{ durableSequence: -1 }, 'durableSequence is not a non-negative integer'],
    [{ durableSequence: 1.5 }, 'durableSequence is not a non-negative integer'],
    [{ durableSequence: '3' }, 'durableSequence is not a non-negative integer'],
    [undefined, 'durableSequence is not a non-negative integer'],
    [{ durableSequence: 3, lastCheckpoint: { time: 'yesterday' } }, 'lastCheckpoint.time is not a date-time'],
  ])('%j -> %j', (body, want) => {
    expect(parseWalStatus(body)).toEqual(want);
  });
});

describe('parseReconciliation', () => {
  const run = { startedAt: 1, finishedAt: 2, ok: true, error: '' };
  const base = {
    enabled: true,
    intervalMs: 30000,
    runs: 3,
    inSync: true,
    halted: false,
    found: [],
    repaired: [],
  };
  const diff = (message: string) => ({
    kind: 'balance',
    symbol: 'BTCUSDT',
    orderId: 0,
    exchangeClientOrderId: '',
    message,
  });
  it.each([
    [
      { ...base, lastRun: run, open: [] },
      { state: 'InSync', message: 'the WAL agrees with the exchange' },
    ],
    [
      { ...base, lastRun: run, halted: true, open: [diff('short of BTC'), diff('short of ETH')] },
      { state: 'OutOfSync', message: 'new orders halted: short of BTC (and 1 more)' },
    ],
    [
      { ...base, lastRun: { ...run, ok: false, error: 'ECONNREFUSED' }, open: [] },
      { state: 'ReconciliationFailed', message: 'the exchange could not be asked: ECONNREFUSED' },
    ],
    [
      { ...base, enabled: false, lastRun: null, open: [] },
      { state: 'NotEnabled', message: 'the engine trades on no exchange' },
    ],
    [{ ...base, lastRun: null, open: [] }, 'no reconciliation has run yet'],
    [{ error: 'not found' }, 'not a reconciliation answer'],
  ])('%j -> %j', (body, want) => {
    expect(parseReconciliation(body)).toEqual(want);
  });

  it('is read with the WAL status, and a change of it wakes the deployment', async () => {
    let open: unknown[] = [];
    const access: EngineAccess = {
      call: <T>(_ns: string, _pod: string, _m: string, path: string): Promise<EngineResponse<T>> =>
        Promise.resolve({
          status: 200,
          body: (path === '/api/wal/status'
            ? { durableSequence: 4, lastCheckpoint: null }
            : { ...base, lastRun: run, open }) as T,
        }),
    };
    const woken: string[] = [];
    const w = new WalObserver({ engines: access, log, onChange: (ns, d) => woken.push(`${ns}/${d}`) });
    w.track('ns', 'x', new Map([[0, 'x-engine-0']]));
    await w.askAll();
    expect(w.get('ns', 'x').get(0)).toEqual({
      walEntries: 4,
      exchange: { state: 'InSync', message: 'the WAL agrees with the exchange' },
    });
    await w.askAll();
    expect(woken).toEqual(['ns/x']);
    open = [diff('short of BTC')];
    await w.askAll();
    expect(woken).toEqual(['ns/x', 'ns/x']);
    expect(w.get('ns', 'x').get(0)?.exchange).toEqual({ state: 'OutOfSync', message: 'short of BTC' });
  });
});

describe('WalObserver', () => {
  it('reports what tracked engines answered, wakes the deployment only on a change', async () => {
    const answers = new Map<string, unknown>([
      ['x-engine-0', { durableSequence: 10, lastCheckpoint: { sequence: 4, time: '2026-11-21T10:00:00Z' } }],
      ['x-engine-1', { durableSequence: 3, lastCheckpoint: null }],
    ]);
    const woken: string[] = [];
    const w = new WalObserver({
      engines: engines(answers),
      log,
      onChange: (ns, d) => woken.push(`${ns}/${d}`),
    });
    w.track(
      'ns',
      'x',
      new Map([
        [0, 'x-engine-0'],
        [1, 'x-engine-1'],
      ]),
    );
    expect(w.get('ns', 'x').size).toBe(0);
    await w.askAll();
    expect(w.get('ns', 'x')).toEqual(
      new Map([
        [0, { walEntries: 10, lastCheckpoint: '2026-11-21T10:00:00Z' }],
        [1, { walEntries: 3 }],
      ]),
    );
    expect(woken).toEqual(['ns/x', 'ns/x']);
    await w.askAll();
    expect(woken).toHaveLength(2);
    answers.set('x-engine-1', { durableSequence: 9, lastCheckpoint: null });
    await w.askAll();
    expect(woken).toHaveLength(3);
    expect(w.get('ns', 'x').get(1)).toEqual({ walEntries: 9 });
  });

  it('keeps the last answer of an engine that stops answering, and backs off asking it', async () => {
    const answers = new Map<string, unknown>([['x-engine-0', { durableSequence: 5 }]]);
    const calls: string[] = [];
    const w = new WalObserver({ engines: engines(answers, calls), log, onChange: () => undefined });
    w.track('ns', 'x', new Map([[0, 'x-engine-0']]));
    await w.askAll();
    answers.set('x-engine-0', new EngineUnreachableError('connection refused'));
    await w.askAll();
    expect(w.get('ns', 'x').get(0)).toEqual({ walEntries: 5 });
    await w.askAll();
    // The failed engine is not asked again within its backoff.
    expect(calls).toEqual([
      'GET x-engine-0/api/wal/status',
      'GET x-engine-0/api/exchange/reconciliation',
      'GET x-engine-0/api/wal/status',
    ]);
  });

  it('ignores an answer that is not a WAL status', async () => {
    const w = new WalObserver({
      engines: engines(new Map([['x-engine-0', { error: 'nope' }]])),
      log,
      onChange: () => undefined,
    });
    w.track('ns', 'x', new Map([[0, 'x-engine-0']]));
    await w.askAll();
    expect(w.get('ns', 'x').size).toBe(0);
  });

  it('forgets engines no longer tracked', async () => {
    const w = new WalObserver({
      engines: engines(new Map([['x-engine-0', { durableSequence: 1 }]])),
      log,
      onChange: () => undefined,
    });
    w.track('ns', 'x', new Map([[0, 'x-engine-0']]));
    await w.askAll();
    w.track('ns', 'x', new Map());
    expect(w.get('ns', 'x').size).toBe(0);
  });

  it('stop abandons the questions in flight', async () => {
    let asked!: () => void;
    const started = new Promise<void>((r) => (asked = r));
    const hanging: EngineAccess = {
      call: (_ns, _pod, _m, _p, _body, signal) =>
        new Promise((_resolve, reject) => {
          asked();
          signal?.addEventListener('abort', () => reject(new EngineUnreachableError('aborted')));
        }),
    };
    const w = new WalObserver({ engines: hanging, log, onChange: () => undefined, intervalMs: 1 });
    w.track('ns', 'x', new Map([[0, 'x-engine-0']]));
    w.start();
    await started;
    await w.stop();
    expect(w.get('ns', 'x').size).toBe(0);
  });
});
