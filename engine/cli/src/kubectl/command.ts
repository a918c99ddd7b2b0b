// `kubectl veloz` (the kubectl-veloz binary) and `veloz kubectl`: the desk at a glance and its
// day-2 commands, through the API server only, as kubectl itself reaches pods (docs/kubectl-plugin.md).
import type { VelozDeployment } from '@veloz/api/generated/types';
import { parse, UsageError } from '@veloz/common/args';
import { KubeClient } from '@veloz/operator/kube/client';
import { loadConnection } from '@veloz/operator/kube/kubeconfig';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { ENGINE_TOKEN_HEADER } from '@veloz/api/http/credentials';
import { names } from '@veloz/api/names';
import { apiKey, backupNow, haltOrResume, pairIndexes, podLog, restoreTo } from './actions.ts';
import { completion } from './completion.ts';
import { asDesk, type Desk, explain, getDesk, observeDesk, PluginError } from './desk-read.ts';
import { deskStatus } from './desk-status.ts';
import { mergeOrders, ordersText } from './orders.ts';
import { startPortForward } from './port-forward.ts';
import { adminToken } from './desk-read.ts';
import { outputFormat, paintFor, serialize, table, type Format, type Paint } from './output.ts';
import { statusText } from './status-text.ts';
import { deskScreen, inPlace } from './desk-view.ts';
import { strategiesText, type StrategyView, strategyView } from './strategies.ts';

const GLOBAL_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  color: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_HELP = `Global options:
  --kubeconfig FILE        kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME           kubeconfig context (default: its current context)
  -n, --namespace NS       namespace of the desk (default: the context's, else "default")
  -A, --all-namespaces     find the desk in any namespace (status without DESK: list every desk)
  -o, --output FORMAT      json or yaml instead of text
  --color auto|always|never  colour on a terminal only (auto; NO_COLOR turns it off)
  -h, --help               this help`;

export interface Io {
  out: { write(s: string): unknown; isTTY?: boolean };
  err: { write(s: string): unknown };
  /** Loads the client; tests pass one for their cluster. */
  connect?: (
    kubeconfig: string | undefined,
    context: string | undefined,
  ) => { client: KubeClient; namespace?: string };
}

interface Ctx {
  client: KubeClient;
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string;
  allNamespaces: boolean;
  format: Format;
  paint: Paint;
  io: Io;
}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  summary: string;
  usage: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(ctx: Ctx, args: string[], v: Values): Promise<number>;
}

/** The desk a command names, found in -n's namespace or, with -A, in the only namespace holding it. */
async function desk(ctx: Ctx, args: string[]): Promise<Desk> {
  const name = args[0];
  if (!name) throw new UsageError('DESK is required (the name of a VelozDeployment)');
  if (args.length > 1) throw new UsageError(`unexpected arguments: ${args.slice(1).join(' ')}`);
  if (!ctx.allNamespaces) return getDesk(ctx.client, ctx.namespace, name);
  let all: VelozDeployment[];
  try {
    all = (await ctx.client.list<VelozDeployment>(RESOURCES.velozDeployment)).items;
  } catch (err) {
    throw explain(err, 'list VelozDeployments in all namespaces');
  }
  const found = all.filter((d) => d.metadata.name === name);
  if (found.length === 0) throw new PluginError(`no desk "${name}" in any namespace`);
  if (found.length > 1)
    throw new PluginError(
      `desk "${name}" exists in namespaces ${found.map((d) => d.metadata.namespace).join(', ')}: pick one with -n`,
    );
  return asDesk(found[0]!, ctx.namespace);
}

const print = (ctx: Ctx, data: unknown, text: () => string): void => {
  ctx.io.out.write(ctx.format === 'text' ? text() : serialize(data, ctx.format));
};

async function statusOnce(ctx: Ctx, d: Desk): Promise<number> {
  const ns = d.metadata.namespace;
  const now = Date.now();
  const s = deskStatus(await observeDesk(ctx.client, ns, d.metadata.name, now));
  print(ctx, s, () => statusText(s, ctx.paint, now));
  // Totals that leave a pair out are not the desk's: say so with the exit code too.
  return s.incomplete.length > 0 ? 1 : 0;
}

async function deskList(ctx: Ctx): Promise<number> {
  let items: VelozDeployment[];
  try {
    items = (
      await ctx.client.list<VelozDeployment>(
        RESOURCES.velozDeployment,
        ctx.allNamespaces ? undefined : ctx.namespace,
      )
    ).items;
  } catch (err) {
    throw explain(err, 'list VelozDeployments');
  }
  const rows = items.map((d) => ({
    namespace: d.metadata.namespace ?? '',
    name: d.metadata.name ?? '',
    phase: d.status?.phase ?? 'Unknown',
    readyPairs: d.status?.readyPairs ?? 0,
    pairs: d.spec.pairs,
    mode: d.spec.execution.mode,
  }));
  print(ctx, rows, () =>
    rows.length === 0
      ? `No desks${ctx.allNamespaces ? '' : ` in namespace ${ctx.namespace}`}.\n`
      : `${table([
          ['NAMESPACE', 'NAME', 'PHASE', 'READY', 'MODE'],
          ...rows.map((r) => [r.namespace, r.name, r.phase, `${r.readyPairs}/${r.pairs}`, r.mode]),
        ])}\n`,
  );
  return 0;
}

const COMMANDS: Record<string, Command> = {
  status: {
    summary: 'the desk at a glance: pairs, orders, positions and PnL, WAL, backups, sync, conditions, Events',
    usage: 'status [DESK] [--watch [--interval SECONDS]]',
    help: `Without DESK, lists the desks of the namespace (every namespace with -A).
Totals (orders, positions and PnL per symbol, WAL entries) are sums of the engines' own answers,
read through the API server's pod proxy with the desk's admin engine token. Exit status 1 when an
engine could not be read (the pair is named with the reason, and the totals leave it out).

Options:
  -w, --watch              redraw every --interval seconds until Ctrl-C
  --interval SECONDS       between redraws (default 5)`,
    options: { watch: { type: 'boolean', short: 'w' }, interval: { type: 'string' } },
    async run(ctx, args, v) {
      if (args.length === 0) return deskList(ctx);
      const d = await desk(ctx, args);
      if (!v['watch']) return statusOnce(ctx, d);
      const interval = Number(v['interval'] ?? '5');
      if (!(interval > 0)) throw new UsageError(`--interval ${String(v['interval'])}: expected seconds > 0`);
      const redraw = !!ctx.io.out.isTTY && ctx.format === 'text';
      for (;;) {
        // In place on a terminal; a pipe gets one screen after another.
        if (redraw) {
          const screen = await deskScreen(ctx.client, d.metadata.namespace, d.metadata.name, ctx.paint);
          ctx.io.out.write(inPlace(screen.text));
        } else await statusOnce(ctx, d);
        await new Promise((r) => setTimeout(r, interval * 1000));
      }
    },
  },
  orders: {
    summary: 'every order of the desk, merged from all pairs, with the pair of each',
    usage: 'orders DESK [--open] [--symbol SYMBOL]',
    help: `Options:
  --open                   only orders that can still fill
  --symbol SYMBOL          only this symbol (e.g. BTCUSDT)
Exit status 1 when an engine could not be read (its orders are missing; the pair is named).`,
    options: { open: { type: 'boolean' }, symbol: { type: 'string' } },
    async run(ctx, args, v) {
      const d = await desk(ctx, args);
      const o = await observeDesk(ctx.client, d.metadata.namespace, d.metadata.name);
      const symbol = v['symbol'] as string | undefined;
      const orders = mergeOrders(o.pairs, { open: !!v['open'], symbol });
      print(ctx, orders, () => ordersText(orders, ctx.paint));
      let failed = 0;
      for (const p of o.pairs)
        if (p.error) {
          failed++;
          ctx.io.err.write(
            `pair ${p.index}: engine ${p.enginePod} not read, its orders are missing: ${p.error}\n`,
          );
        }
      return failed > 0 ? 1 : 0;
    },
  },
  halt: haltCommand('halt'),
  resume: haltCommand('resume'),
  'api-key': {
    summary: "print the gateways' API key (for the X-API-Key header)",
    usage: 'api-key DESK',
    help: 'Reads spec.gateway.apiKeySecretRef, or the generated Secret DESK-gateway-api-key.',
    options: {},
    async run(ctx, args) {
      const d = await desk(ctx, args);
      const key = await apiKey(ctx.client, d);
      print(ctx, { apiKey: key }, () => `${key}\n`);
      return 0;
    },
  },
  backup: {
    summary: 'back up every pair now: a Job from the desk backup CronJob; waits and reports the result',
    usage: 'backup DESK [--no-wait] [--timeout SECONDS]',
    help: `Options:
  --no-wait                create the Job and return
  --timeout SECONDS        how long to wait for it (default 900)
Exit status 1 when the Job fails or does not finish in time.`,
    options: { 'no-wait': { type: 'boolean' }, timeout: { type: 'string' } },
    async run(ctx, args, v) {
      const d = await desk(ctx, args);
      const timeout = Number(v['timeout'] ?? '900');
      if (!(timeout > 0)) throw new UsageError(`--timeout ${String(v['timeout'])}: expected seconds > 0`);
      const r = await backupNow(ctx.client, d, { wait: !v['no-wait'], timeoutMs: timeout * 1000 });
      const ns = d.metadata.namespace;
      print(ctx, r, () =>
        r.result === 'Started'
          ? `backup Job ${ns}/${r.job} created\n`
          : r.result === 'Succeeded'
            ? `backup Job ${ns}/${r.job} ${ctx.paint.good('succeeded')} in ${r.seconds} s\n`
            : `backup Job ${ns}/${r.job} ${ctx.paint.bad('failed')}: ${r.message}\n(kubectl -n ${ns} logs job/${r.job})\n`,
      );
      return r.result === 'Failed' ? 1 : 0;
    },
  },
  restore: {
    summary: "create a new desk bootstrapped from a desk's backups (spec.restore.fromBackup)",
    usage: 'restore DESK --to NEW [--up-to TIME] [--wait] [--timeout SECONDS]',
    help: `The new desk NEW gets DESK's spec and reads DESK's backups (its backups volume or bucket);
each engine restores its own pair's WAL before it starts. DESK is not changed.

Options:
  --to NEW                 the new desk's name (required; it must not exist)
  --up-to TIME             restore records up to this RFC 3339 time (default: everything)
  --wait                   wait until NEW is Ready
  --timeout SECONDS        how long --wait waits (default 600)`,
    options: {
      to: { type: 'string' },
      'up-to': { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    async run(ctx, args, v) {
      const to = v['to'] as string | undefined;
      if (!to) throw new UsageError('--to NEW is required');
      const d = await desk(ctx, args);
      await restoreTo(ctx.client, d, to, v['up-to'] as string | undefined);
      const ns = d.metadata.namespace;
      ctx.io.err.write(`desk ${ns}/${to} created from the backups of ${d.metadata.name}\n`);
      if (!v['wait']) {
        print(ctx, { desk: to, namespace: ns, ready: false }, () => `kubectl veloz -n ${ns} status ${to}\n`);
        return 0;
      }
      const timeout = Number(v['timeout'] ?? '600');
      if (!(timeout > 0)) throw new UsageError(`--timeout ${String(v['timeout'])}: expected seconds > 0`);
      const t0 = Date.now();
      for (;;) {
        const n = await getDesk(ctx.client, ns, to);
        const readyCond = n.status?.conditions?.find((c) => c.type === 'Ready');
        if (n.status?.observedGeneration === n.metadata.generation && readyCond?.status === 'True') {
          print(ctx, { desk: to, namespace: ns, ready: true }, () => `desk ${ns}/${to} is Ready\n`);
          return 0;
        }
        if (Date.now() - t0 > timeout * 1000)
          throw new PluginError(
            `desk ${ns}/${to} is not Ready after ${timeout} s: ${readyCond ? `${readyCond.reason}: ${readyCond.message}` : 'no Ready condition yet'}`,
          );
        await new Promise((r) => setTimeout(r, 2000));
      }
    },
  },
  'port-forward': {
    summary: 'a local port to a gateway (or engine) of the desk, through the API server',
    usage: 'port-forward DESK [--pair N] [--engine] [--port LOCAL] [--address ADDR]',
    help: `HTTP only (all a gateway or engine serves), streamed both ways, so /api/stream works.
The API server strips Authorization: send the API key as X-API-Key (kubectl veloz api-key DESK).
With --engine the desk's admin engine token is added to every request. Runs until Ctrl-C.

Options:
  --pair N                 which pair (default 0)
  --engine                 the engine instead of the gateway
  --port LOCAL             local port (default 8080; 0 picks one)
  --address ADDR           local address (default 127.0.0.1)`,
    options: {
      pair: { type: 'string' },
      engine: { type: 'boolean' },
      port: { type: 'string' },
      address: { type: 'string' },
    },
    async run(ctx, args, v) {
      const d = await desk(ctx, args);
      const [i] = pairIndexes(d, (v['pair'] as string | undefined) ?? '0');
      const n = names(d.metadata.name);
      const ns = d.metadata.namespace;
      const pod = v['engine'] ? n.enginePod(i!) : n.gatewayPod(i!);
      const localPort = Number(v['port'] ?? '8080');
      if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65535)
        throw new UsageError(`--port ${String(v['port'])}: expected a port number`);
      const headers: Record<string, string> = v['engine']
        ? { [ENGINE_TOKEN_HEADER]: await adminToken(ctx.client, ns, d.metadata.name) }
        : {};
      const address = (v['address'] as string | undefined) ?? '127.0.0.1';
      const pf = await startPortForward(
        loadConnection(ctx.kubeconfig, ctx.context),
        { namespace: ns, pod, port: 8080 },
        { address, localPort, headers },
      );
      ctx.io.err.write(
        `Forwarding from ${address}:${pf.port} -> ${ns}/${pod}:8080 (through the API server)\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await pf.close();
      return 0;
    },
  },
  logs: {
    summary: 'the log of an engine (or gateway) of the desk',
    usage: 'logs DESK [--pair N] [--gateway] [--tail N] [--previous]',
    help: `Options:
  --pair N                 which pair (default 0)
  --gateway                the gateway's log instead of the engine's
  --tail N                 the last N lines (default 100)
  --previous               the previous container's log (after a restart)`,
    options: {
      pair: { type: 'string' },
      gateway: { type: 'boolean' },
      tail: { type: 'string' },
      previous: { type: 'boolean' },
    },
    async run(ctx, args, v) {
      const d = await desk(ctx, args);
      const [i] = pairIndexes(d, (v['pair'] as string | undefined) ?? '0');
      const n = names(d.metadata.name);
      const pod = v['gateway'] ? n.gatewayPod(i!) : n.enginePod(i!);
      const tail = Number(v['tail'] ?? '100');
      if (!Number.isInteger(tail) || tail < 0)
        throw new UsageError(`--tail ${String(v['tail'])}: expected lines >= 0`);
      ctx.io.out.write(
        await podLog(ctx.client, d.metadata.namespace, pod, {
          tailLines: tail,
          previous: v['previous'] ? true : undefined,
        }),
      );
      return 0;
    },
  },
  strategies: {
    summary: 'each VelozStrategy of the desk with its state in every engine',
    usage: 'strategies DESK',
    help: 'Reads the VelozStrategies whose spec.deploymentRef names DESK and the per-engine state the operator reports.',
    options: {},
    async run(ctx, args) {
      const d = await desk(ctx, args);
      const ns = d.metadata.namespace;
      let list: StrategyView[];
      try {
        const all = await ctx.client.list(RESOURCES.velozStrategy, ns);
        list = all.items.map(strategyView).filter((s) => s.deployment === d.metadata.name);
      } catch (err) {
        throw explain(err, `list VelozStrategies in namespace ${ns}`);
      }
      print(ctx, list, () => strategiesText(list, ctx.paint));
      return 0;
    },
  },
  completion: {
    summary: 'a shell completion script: completion bash|zsh',
    usage: 'completion bash|zsh',
    help: `bash: source <(kubectl-veloz completion bash)
zsh:  source <(kubectl-veloz completion zsh)
kubectl veloz completes through kubectl's plugin completion: the script also installs kubectl_complete-veloz.`,
    options: {},
    async run(ctx, args) {
      ctx.io.out.write(completion(args[0] ?? '', Object.keys(COMMANDS)));
      return 0;
    },
  },
};

function haltCommand(action: 'halt' | 'resume'): Command {
  return {
    summary:
      action === 'halt'
        ? 'halt trading: every new order is rejected (a WAL record, it holds across restarts)'
        : 'resume trading after a halt',
    usage: `${action} DESK [--pair N] [--reason TEXT]`,
    help: `Options:
  --pair N                 only this pair (default: every pair)
  --reason TEXT            kept in the WAL (default: "${action} by kubectl veloz")
Every pair is tried; exit status 1 when one failed (named with the reason).`,
    options: { pair: { type: 'string' }, reason: { type: 'string' } },
    async run(ctx, args, v) {
      const d = await desk(ctx, args);
      const pairs = pairIndexes(d, v['pair'] as string | undefined);
      const reason = (v['reason'] as string | undefined) ?? `${action} by kubectl veloz`;
      const results = await haltOrResume(ctx.client, d, action, pairs, reason);
      print(ctx, results, () =>
        results
          .map((r) =>
            r.ok
              ? `pair ${r.pair}: ${r.halted ? ctx.paint.warn(`halted (${r.reason})`) : ctx.paint.good('trading')}\n`
              : `pair ${r.pair}: ${ctx.paint.bad('failed')}: engine ${r.engine}: ${r.error}\n`,
          )
          .join(''),
      );
      return results.every((r) => r.ok) ? 0 : 1;
    },
  };
}

export function mainHelp(prog: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `Usage: ${prog} <command> [DESK] [options]

The desk (a VelozDeployment) at a glance and its day-2 commands, through the API server only.

Commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`)
  .join('\n')}

${GLOBAL_HELP}

Run "${prog} <command> --help" for the options of a command. Docs: docs/kubectl-plugin.md`;
}

function defaultConnect(kubeconfig: string | undefined, context: string | undefined) {
  const conn = loadConnection(kubeconfig, context);
  return {
    client: new KubeClient(conn, 'kubectl-veloz'),
    ...(conn.namespace ? { namespace: conn.namespace } : {}),
  };
}

/** Global options that take a value: kubectl users put them before the command too. */
const VALUE_OPTIONS = new Set([
  '--kubeconfig',
  '--context',
  '-n',
  '--namespace',
  '-o',
  '--output',
  '--color',
]);

/** The command name (the first word that is not an option or an option's value) and the rest. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return { name: undefined, rest: argv };
}

/** Runs one plugin command; the exit status: 0 done, 1 failed (the message says what), 2 usage. */
export async function kubectlCommand(argv: string[], io: Io, prog = 'kubectl veloz'): Promise<number> {
  const { name, rest } = splitCommand(argv);
  if (!name || name === 'help') {
    const help = name === 'help' || rest.includes('--help') || rest.includes('-h');
    io.out.write(`${mainHelp(prog)}\n`);
    return help ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err.write(`${prog}: unknown command "${name}"\n\n${mainHelp(prog)}\n`);
    return 2;
  }
  let client: KubeClient | undefined;
  try {
    const { values, positionals } = parse(rest, { ...GLOBAL_OPTIONS, ...cmd.options }, true);
    const v = values as Values;
    if (v['help']) {
      io.out.write(`Usage: ${prog} ${cmd.usage}\n\n${cmd.summary}\n\n${cmd.help}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    const format = outputFormat(v['output'] as string | undefined);
    const paint = paintFor(io.out, (v['color'] as string | undefined) ?? 'auto');
    if (name === 'completion') return await cmd.run({ format, paint, io } as Ctx, positionals, v);
    const conn = (io.connect ?? defaultConnect)(
      v['kubeconfig'] as string | undefined,
      v['context'] as string | undefined,
    );
    client = conn.client;
    const ctx: Ctx = {
      client,
      kubeconfig: v['kubeconfig'] as string | undefined,
      context: v['context'] as string | undefined,
      namespace: (v['namespace'] as string | undefined) ?? conn.namespace ?? 'default',
      allNamespaces: !!v['all-namespaces'],
      format,
      paint,
      io,
    };
    return await cmd.run(ctx, positionals, v);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`${prog} ${name}: ${err.message}\nRun "${prog} ${name} --help" for usage.\n`);
      return 2;
    }
    io.err.write(`${prog} ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    // The connection pool's keep-alive sockets would hold the process open.
    if (!io.connect) client?.close();
  }
}
