// kubectl veloz against real engines: a 3-pair quickstart desk trades, and the plugin (run as
// kubectl runs it: the kubectl-veloz binary on PATH) reports desk totals equal to the sum of what
// each engine answers on its own through its gateway; halt/resume stop and restart one pair's
// orders; backup runs the CronJob's Job; restore --to brings up a second desk from it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { names } from '@veloz/api/names';
import { createNamespace } from '../support/cluster.ts';
import { bin, client, kubeconfig, quickstart, ready, skipReason } from './support/system.ts';

/** A directory with `kubectl-veloz`, the name kubectl looks for (npm links the bin so too). */
const PLUGIN_BIN = mkdtempSync(join(tmpdir(), 'kubectl-veloz-'));
symlinkSync(
  join(import.meta.dirname, '..', '..', 'engine', 'cli', 'bin', 'kubectl-veloz.js'),
  join(PLUGIN_BIN, 'kubectl-veloz'),
);

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

/** `kubectl veloz ARGS`: the pinned kubectl finds the plugin on PATH, as a user's would. */
function veloz(...args: string[]): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(
    join(bin(), 'kubectl'),
    ['veloz', ...args, '--kubeconfig', kubeconfig(), '-n', ns.name],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${PLUGIN_BIN}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
      },
      timeout: 600_000,
    },
  );
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

function json<T>(...args: string[]): T {
  const r = veloz(...args, '-o', 'json');
  expect(r.status, `kubectl veloz ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** One pair's gateway, reached at its pod IP with the desk's API key: the engine's own answers. */
class PairGateway {
  readonly url: string;
  private readonly key: string;

  constructor(url: string, key: string) {
    this.url = url;
    this.key = key;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    for (;;) {
      const res = await fetch(this.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      return { status: res.status, body: (await res.json()) as T };
    }
  }
}

async function gateways(x: string, key: string, pairs: number): Promise<PairGateway[]> {
  const out: PairGateway[] = [];
  for (let i = 0; i < pairs; i++) {
    const pod = await c.get<{ status: { podIP: string } }>(RESOURCES.pod, ns.name, names(x).gatewayPod(i));
    out.push(new PairGateway(`http://${pod.status.podIP}:8080`, key));
  }
  return out;
}

interface Status {
  readyPairs: number;
  pairs: Array<{ index: number; engineReady: boolean; ordersOpen: number; error: string }>;
  orders: { open: number; filledToday: number };
  positions: Array<{ symbol: string; quantity: string; realizedPnl: string; unrealizedPnl: string }>;
  incomplete: number[];
}

describe.skipIf(skipReason() !== '')('real pods: kubectl veloz', () => {
  beforeEach(async () => {
    c = client();
    ns = await createNamespace(c, 'plugin');
  });
  afterEach(async () => {
    await ns.remove();
    c.close();
  });

  it('status and orders sum the engines’ own answers; halt/resume, api-key, backup and restore --to work', async () => {
    const { deployment } = await quickstart(ns.name);
    deployment.spec = {
      ...deployment.spec,
      pairs: 3,
      // Never on its own during the test: `kubectl veloz backup` makes the Job.
      backup: { schedule: '0 0 1 1 *', destination: { volume: { size: '1Gi' } } },
    };
    await c.apply(deployment);
    await ready(c, ns.name, 'quickstart', 600_000);

    const key = json<{ apiKey: string }>('api-key', 'quickstart').apiKey;
    const secret = await c.get<{ data: Record<string, string> }>(
      RESOURCES.secret,
      ns.name,
      names('quickstart').apiKeySecret,
    );
    expect(key).toBe(Buffer.from(secret.data['apiKey']!, 'base64').toString('utf8'));
    const gw = await gateways('quickstart', key, 3);

    // Pair i: i+1 open LIMIT orders and one MARKET order of (i+1) x 0.001 that fills.
    for (const [i, g] of gw.entries()) {
      for (let k = 0; k <= i; k++) {
        const r = await g.call('POST', '/api/orders', {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          quantity: '0.001',
          price: '10000.00',
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      const m = await g.call('POST', '/api/orders', {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        quantity: `0.00${i + 1}`,
      });
      expect(m.status, JSON.stringify(m.body)).toBe(201);
    }
    const ownOpen = await Promise.all(
      gw.map(
        async (g) =>
          (await g.call<{ orders: unknown[] }>('GET', '/api/orders_state?status=open')).body.orders.length,
      ),
    );
    const ownPositions = (
      await Promise.all(
        gw.map(
          async (g) =>
            (await g.call<{ positions: Status['positions'] }>('GET', '/api/positions')).body.positions,
        ),
      )
    ).flat();
    expect(ownOpen).toEqual([1, 2, 3]);

    const s = json<Status>('status', 'quickstart');
    expect(s.incomplete).toEqual([]);
    expect(s.readyPairs).toBe(3);
    expect(s.pairs.map((p) => [p.index, p.engineReady, p.ordersOpen, p.error])).toEqual([
      [0, true, 1, ''],
      [1, true, 2, ''],
      [2, true, 3, ''],
    ]);
    expect(s.orders.open).toBe(ownOpen.reduce((a, b) => a + b, 0));
    const btc = s.positions.find((p) => p.symbol === 'BTCUSDT')!;
    const own = ownPositions.filter((p) => p.symbol === 'BTCUSDT');
    for (const f of ['quantity', 'realizedPnl'] as const)
      expect(Number(btc[f])).toBeCloseTo(
        own.reduce((n, p) => n + Number(p[f]), 0),
        9,
      );
    expect(Number(btc.quantity)).toBeCloseTo(0.006, 9);

    // Text in a pipe: plain, every pair listed.
    const text = veloz('status', 'quickstart');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('3/3 ready');
    expect(text.stdout).not.toContain('\u001b[');

    const open = json<Array<{ pair: number; status: string }>>('orders', 'quickstart', '--open');
    expect(open.map((o) => o.pair)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(open).toHaveLength(6);

    // Halt pair 1 only: its new orders are refused, pair 0 still trades; resume lets it trade again.
    const order = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '10000.00' };
    const halted = json<Array<{ pair: number; ok: boolean; halted: boolean }>>(
      'halt',
      'quickstart',
      '--pair',
      '1',
    );
    expect(halted).toEqual([expect.objectContaining({ pair: 1, ok: true, halted: true })]);
    const refused = await gw[1]!.call<{ reason: string }>('POST', '/api/orders', order);
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('TRADING_HALTED');
    expect((await gw[0]!.call('POST', '/api/orders', order)).status).toBe(201);
    const resumed = json<Array<{ pair: number; ok: boolean; halted: boolean }>>(
      'resume',
      'quickstart',
      '--pair',
      '1',
    );
    expect(resumed).toEqual([expect.objectContaining({ pair: 1, ok: true, halted: false })]);
    expect((await gw[1]!.call('POST', '/api/orders', order)).status).toBe(201);

    // port-forward: a local port to gateway 2 through the API server; the API key as X-API-Key.
    const pf = spawn(
      join(bin(), 'kubectl'),
      [
        'veloz',
        'port-forward',
        'quickstart',
        '--pair',
        '2',
        '--port',
        '0',
        '--kubeconfig',
        kubeconfig(),
        '-n',
        ns.name,
      ],
      {
        env: {
          ...process.env,
          PATH: `${PLUGIN_BIN}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
        },
      },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let err = '';
        pf.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        pf.on('exit', (code) => reject(new Error(`port-forward exited ${code}: ${err}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/api/orders_state?status=open`, {
        headers: { 'x-api-key': key },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { orders: unknown[] }).orders).toHaveLength(ownOpen[2]!);
    } finally {
      pf.kill('SIGINT');
    }
    const logs = veloz('logs', 'quickstart', '--pair', '1', '--tail', '5');
    expect(logs.status, logs.stderr).toBe(0);
    expect(logs.stdout.trim().split('\n').length).toBeGreaterThan(0);

    // Errors name what failed, with a non-zero exit.
    const unknown = veloz('status', 'nope');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(`no desk "nope" in namespace "${ns.name}"`);
    const badPair = veloz('halt', 'quickstart', '--pair', '7');
    expect(badPair.status).toBe(1);
    expect(badPair.stderr).toContain('--pair 7: desk quickstart has 3 pairs (0..2)');

    const backup = json<{ result: string; job: string }>('backup', 'quickstart', '--timeout', '400');
    expect(backup.result).toBe('Succeeded');
    const before = json<unknown[]>('orders', 'quickstart');

    const restored = json<{ ready: boolean }>(
      'restore',
      'quickstart',
      '--to',
      'restored',
      '--wait',
      '--timeout',
      '600',
    );
    expect(restored.ready).toBe(true);
    const after = json<Array<{ pair: number; clientOrderId: string; status: string }>>('orders', 'restored');
    const view = (o: { pair: number; clientOrderId: string; status: string }) =>
      `${o.pair}/${o.clientOrderId}/${o.status}`;
    expect(after.map(view).sort()).toEqual((before as typeof after).map(view).sort());
  });
});
