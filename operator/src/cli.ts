// `veloz operator`.
import { setFlagsFromString } from 'node:v8';
import { createLogger } from '@veloz/common/logging';
import { loadOperatorConfig, OPERATOR_HELP, OperatorConfigError } from './config.ts';
import { startOperator } from './manager.ts';

export async function operatorCommand(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = loadOperatorConfig(argv, process.env);
  } catch (err) {
    if (err instanceof OperatorConfigError) {
      process.stderr.write(`veloz operator: ${err.message}\nRun "veloz operator --help" for usage.\n`);
      return 2;
    }
    throw err;
  }
  if (cfg.help) {
    console.log(OPERATOR_HELP);
    return 0;
  }
  // The young generation otherwise grows to 64 MB semi-spaces while the informers fill their caches
  // (everything they keep survives a scavenge), and its pages stay resident: measured with
  // bench:operator, most of the operator's peak RSS at 500 VelozDeployments.
  setFlagsFromString('--optimize-for-size');
  const log = createLogger(cfg.logLevel, 1, 'veloz-operator');
  const op = await startOperator(cfg, log);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing in-flight reconciles, releasing the lease');
      void op.stop().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  log.flush();
  return 0;
}
