// Every curl command in docs/runbooks/*.md runs verbatim against a real engine process: the only
// change is the documented address (`localhost:8080`, the port-forwarded engine) becoming the test
// engine's. Each command's answer is checked, so a runbook that tells on-call something the
// engine refuses fails here. The kubectl commands run against a real API server in
// test-e2e/runbook-kubectl.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';
import { runbookCommands } from '@veloz/testing/runbook-commands';

const RUNBOOKS = fileURLToPath(new URL('../docs/runbooks', import.meta.url));
const commands = runbookCommands(RUNBOOKS);
const curls = commands.filter((c) => c.tool === 'curl');
const kubectls = commands.filter((c) => c.tool === 'kubectl');

const noCurl = spawnSync('curl', ['--version']).status === 0 ? null : 'curl is not installed';

interface Ctx {
  engine: EngineProcess;
  clientOrderId: string;
  /** POSTs a resting order straight to the engine: its status says whether trading is halted. */
  probe(): Promise<{ status: number; body: { reason?: string } }>;
}

/** What each documented command must answer, by what it asks for. */
const EXPECTATIONS: Array<{ matches: RegExp; check(out: unknown, ctx: Ctx): Promise<void> | void }> = [
  {
    matches: /-XPOST (?:-H "[^"]*" )?\S+\/api\/trading\/halt\b/,
    check: async (out, ctx) => {
      expect(out).toMatchObject({ halted: true });
      const refused = await ctx.probe();
      expect(refused.status).toBe(422);
      expect(refused.body.reason).toBe('TRADING_HALTED');
    },
  },
  {
    matches: /-XPOST (?:-H "[^"]*" )?\S+\/api\/trading\/resume\b/,
    check: async (out, ctx) => {
      expect(out).toMatchObject({ halted: false });
      expect((await ctx.probe()).status).toBe(201);
    },
  },
  {
    // A simulated engine has no exchange to reconcile with: it says so, in sync.
    matches: /^curl \S+\/api\/exchange\/reconciliation\b/,
    check: (out) => expect(out).toMatchObject({ enabled: false, inSync: true }),
  },
  {
    matches: /^curl \S+\/ready\s*$/,
    check: (out) => expect(out).toEqual({ ready: true, reasons: [] }),
  },
  {
    matches: /^curl \S+\/api\/wal\/status\b/,
    check: (out) => {
      expect(out).toMatchObject({ healthy: true, error: null });
      expect((out as { durableSequence: number }).durableSequence).toBeGreaterThan(0);
    },
  },
  {
    matches: /^curl \S+\/api\/orders_state\b/,
    check: (out, ctx) => {
      const orders = (out as { orders: Array<{ clientOrderId: string }> }).orders;
      expect(orders.map((o) => o.clientOrderId)).toContain(ctx.clientOrderId);
    },
  },
];

describe.skipIf(noCurl !== null)(
  `runbook curl commands, verbatim${noCurl ? ` (skipped: ${noCurl})` : ''}`,
  () => {
    let dir: string;
    const ctx = {} as Ctx;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'veloz-runbooks-'));
      ctx.engine = await startEngineProcess({ VELOZ_WAL_DIR: dir });
      let n = 0;
      ctx.probe = async () => {
        const res = await fetch(`${ctx.engine.url}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            symbol: 'BTCUSDT',
            side: 'BUY',
            type: 'LIMIT',
            quantity: '0.010',
            price: '1000.00',
            clientOrderId: `runbook-${++n}`,
          }),
        });
        return { status: res.status, body: (await res.json()) as { reason?: string } };
      };
      ctx.clientOrderId = 'runbook-1';
      expect((await ctx.probe()).status).toBe(201);
    });

    afterAll(async () => {
      await ctx.engine?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });

    it('finds the runbooks’ commands', () => {
      expect(curls.length).toBeGreaterThanOrEqual(5);
      expect(kubectls.length).toBeGreaterThan(20);
    });

    it.each(curls.map((c) => [`${c.file}:${c.line}`, c.command] as const))(
      '%s: %s',
      async (_where, command) => {
        const expectation = EXPECTATIONS.find((e) => e.matches.test(command));
        expect(
          expectation,
          `no expectation for a new runbook command; add one here: ${command}`,
        ).toBeDefined();
        const address = new URL(ctx.engine.url).host;
        const run = command.replaceAll('localhost:8080', address);
        const stdout = execFileSync('sh', ['-c', run], { encoding: 'utf8', cwd: dir, timeout: 10_000 });
        let out: unknown;
        try {
          out = JSON.parse(stdout);
        } catch {
          throw new Error(`${command} did not answer JSON: ${stdout}`);
        }
        await expectation!.check(out, ctx);
        // Each command starts from a trading engine.
        await fetch(`${ctx.engine.url}/api/trading/resume`, { method: 'POST' });
      },
    );
  },
);
