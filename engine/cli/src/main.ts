// The `veloz` CLI: one binary for every role (DESIGN §1).
import { UsageError } from '@veloz/common/args';
import type { CommandDeps } from '@veloz/backup/command';

export const MAIN_HELP = `Usage: veloz <command> [options]

Commands:
  engine     run the trading engine (HTTP service or stdio)
  gateway    run the authenticated HTTP gateway in front of one engine
  wal        verify or inspect a WAL directory
  exchange   check the Binance configuration against the exchange (needs the network and keys)
  backup     back up an engine's WAL to a volume or an S3-compatible bucket
  restore    rebuild a WAL directory from a backup or from PostgreSQL
  operator   run the Kubernetes operator
  kubectl    the kubectl plugin (kubectl veloz): a desk's status, orders, halt/resume, backup, ...

Run "veloz <command> --help" for the options of a command.`;

// Each command is loaded when it runs: a process is one role, and what the others import would
// only sit in its memory (the engine's modules are about 8 MB resident in the operator).
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  engine: async (argv) => (await import('@veloz/engine/command')).engineCommand(argv),
  wal: async (argv) => (await import('@veloz/wal/command')).walCommand(argv),
  exchange: async (argv) => (await import('@veloz/engine/exchange/check-command')).exchangeCommand(argv),
  gateway: async (argv) => (await import('@veloz/gateway/command')).gatewayCommand(argv),
  backup: async (argv) =>
    (await import('@veloz/backup/command')).backupCommand(argv, process.env, await engineDeps()),
  restore: async (argv) =>
    (await import('@veloz/backup/command')).restoreCommand(argv, process.env, await engineDeps()),
  // Loaded on demand: the engine image path never needs the operator's dependencies at start.
  operator: async (argv) => (await import('@veloz/operator/cli')).operatorCommand(argv),
  kubectl: async (argv) =>
    (await import('./kubectl/command.ts')).kubectlCommand(
      argv,
      { out: process.stdout, err: process.stderr },
      'veloz kubectl',
    ),
};

/** The engine's replay, lent to backup (the digest in the manifest) and restore --drill. */
async function engineDeps(): Promise<CommandDeps> {
  const { replayWal } = await import('@veloz/engine/engine/state-digest');
  return { replay: replayWal };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(MAIN_HELP);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`veloz: unknown command "${cmd}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`veloz ${cmd}: ${err.message}\nRun "veloz ${cmd} --help" for usage.\n`);
      return 2;
    }
    process.stderr.write(`veloz ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
