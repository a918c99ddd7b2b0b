// `veloz operator` settings: flags, each also readable from a VELOZ_OPERATOR_* variable.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { DEFAULT_RUNBOOK_BASE_URL, RUNBOOK_BASE_URL_PATTERN } from '@veloz/api/runbooks';

export class OperatorConfigError extends Error {}

export interface OperatorConfig {
  /** undefined watches every namespace. */
  namespaces: string[] | undefined;
  workers: number;
  metricsPort: number;
  metricsHost: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  kubeconfig: string | undefined;
  /** Default engine/gateway image: the operator's own. */
  image: string;
  /** Base of the desks' alert runbook links (spec.monitoring.prometheusRule.runbookBaseUrl wins). */
  runbookBaseUrl: string;
  /** Seconds between two checks whether the Prometheus Operator's API is served. */
  apiDiscoveryIntervalSeconds: number;
  /** Seconds between two rounds of asking the ready engines for their WAL status; 0: never. */
  walStatusIntervalSeconds: number;
  /** The operator's own pods, admitted to the engines by namespace and labels (NetworkPolicy). */
  operatorPeer: { namespace: string; podLabels: Record<string, string> } | undefined;
  /** The metrics scraper admitted to the engines, unless a desk's spec.monitoring.scraper says. */
  scraperPeer: { namespace: string; podLabels: Record<string, string> } | undefined;
  help: boolean;
}

export const OPERATOR_HELP = `Usage: veloz operator [options]

Reconciles VelozDeployment and VelozStrategy resources.

Options (each also from the variable in brackets):
  --namespaces a,b        namespaces to watch; empty watches all      [VELOZ_OPERATOR_NAMESPACES]
  --workers N             concurrent reconciles per kind (1-64, 4)    [VELOZ_OPERATOR_WORKERS]
  --metrics-port P        port of /healthz, /readyz, /metrics (8081)  [VELOZ_OPERATOR_METRICS_PORT]
  --metrics-host H        listen address (0.0.0.0)                    [VELOZ_OPERATOR_METRICS_HOST]
  --leader-elect          only the Lease holder reconciles (false)    [VELOZ_OPERATOR_LEADER_ELECT]
  --lease-namespace NS    namespace of the Lease (the pod's, else default), and of the
                          exchange account Leases and their hash key Secret
                          veloz-account-hash-key            [VELOZ_OPERATOR_LEASE_NAMESPACE]
  --lease-name NAME       Lease name (veloz-operator)                 [VELOZ_OPERATOR_LEASE_NAME]
  --image IMAGE           default image of engines and gateways (${DEFAULT_IMAGE}) [VELOZ_OPERATOR_IMAGE]
  --runbook-base-url URL  base of the runbook_url of every desk's alerts, unless its
                          spec.monitoring.prometheusRule.runbookBaseUrl is set
                          (${DEFAULT_RUNBOOK_BASE_URL})      [VELOZ_OPERATOR_RUNBOOK_BASE_URL]
  --api-discovery-interval S
                          seconds between checks whether monitoring.coreos.com/v1 is
                          served (5-3600, 60)          [VELOZ_OPERATOR_API_DISCOVERY_INTERVAL]
  --wal-status-interval S seconds between WAL status and exchange reconciliation reads
                          of the ready engines, for status.pairs[] and ExchangeInSync
                          (0-3600, 30; 0: never)       [VELOZ_OPERATOR_WAL_STATUS_INTERVAL]
  --operator-namespace NS, --operator-pod-labels k=v,...
                          this operator's namespace and pod labels, admitted to the engines
                          by their NetworkPolicy (the pod's namespace and
                          app.kubernetes.io/name=veloz-operator)
                          [VELOZ_OPERATOR_NAMESPACE, VELOZ_OPERATOR_POD_LABELS]
  --scraper-namespace NS, --scraper-pod-labels k=v,...
                          the metrics scraper admitted to the engines (monitoring,
                          app.kubernetes.io/name=prometheus); a desk's spec.monitoring.scraper wins
                          [VELOZ_OPERATOR_SCRAPER_NAMESPACE, VELOZ_OPERATOR_SCRAPER_POD_LABELS]
  --log-level L           debug, info, warn, error (info)             [VELOZ_LOG_LEVEL]
  --kubeconfig FILE       kubeconfig; default: in cluster, else $KUBECONFIG
  -h, --help              show this help`;

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function intIn(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new OperatorConfigError(
      `${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`,
    );
  }
  return Number(raw);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `k=v,k2=v2` as labels; at least one, each a valid label. */
function labelsOf(flag: string, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = part.indexOf('=');
    const k = at < 0 ? part : part.slice(0, at);
    const v = at < 0 ? '' : part.slice(at + 1);
    if (at < 0 || !LABEL_KEY.test(k) || !LABEL_VALUE.test(v))
      throw new OperatorConfigError(`${flag}: "${part}" is not a label k=v`);
    out[k] = v;
  }
  if (Object.keys(out).length === 0)
    throw new OperatorConfigError(
      `${flag}: at least one label k=v is required (pod labels alone can be forged anywhere else)`,
    );
  return out;
}

export function loadOperatorConfig(argv: string[], env: Record<string, string | undefined>): OperatorConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        namespaces: { type: 'string' },
        workers: { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'lease-namespace': { type: 'string' },
        'lease-name': { type: 'string' },
        image: { type: 'string' },
        'runbook-base-url': { type: 'string' },
        'wal-status-interval': { type: 'string' },
        'api-discovery-interval': { type: 'string' },
        'log-level': { type: 'string' },
        'operator-namespace': { type: 'string' },
        'operator-pod-labels': { type: 'string' },
        'scraper-namespace': { type: 'string' },
        'scraper-pod-labels': { type: 'string' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new OperatorConfigError(err instanceof Error ? err.message : String(err));
  }
  const pick = (flag: string | undefined, v: string): string | undefined => flag ?? env[v];
  const nsRaw = pick(values.namespaces, 'VELOZ_OPERATOR_NAMESPACES') ?? '';
  const namespaces = nsRaw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces) {
    if (!NAME.test(ns)) throw new OperatorConfigError(`--namespaces: "${ns}" is not a valid namespace name`);
  }
  const logLevel = pick(values['log-level'], 'VELOZ_LOG_LEVEL') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new OperatorConfigError(
      `--log-level "${logLevel}" is invalid: expected one of debug, info, warn, error`,
    );
  }
  const leaderRaw = values['leader-elect'] ?? env['VELOZ_OPERATOR_LEADER_ELECT'] ?? 'false';
  const leaderElect = leaderRaw === true || leaderRaw === 'true';
  if (!leaderElect && leaderRaw !== false && leaderRaw !== 'false') {
    throw new OperatorConfigError(
      `VELOZ_OPERATOR_LEADER_ELECT="${String(leaderRaw)}" is invalid: expected true or false`,
    );
  }
  const leaseName = pick(values['lease-name'], 'VELOZ_OPERATOR_LEASE_NAME') ?? 'veloz-operator';
  if (!NAME.test(leaseName)) throw new OperatorConfigError(`--lease-name "${leaseName}" is not a valid name`);
  const leaseNamespace =
    pick(values['lease-namespace'], 'VELOZ_OPERATOR_LEASE_NAMESPACE') ?? env['POD_NAMESPACE'] ?? 'default';
  if (!NAME.test(leaseNamespace))
    throw new OperatorConfigError(`--lease-namespace "${leaseNamespace}" is not a valid namespace`);
  const runbookBaseUrl =
    pick(values['runbook-base-url'], 'VELOZ_OPERATOR_RUNBOOK_BASE_URL') ?? DEFAULT_RUNBOOK_BASE_URL;
  if (!new RegExp(RUNBOOK_BASE_URL_PATTERN).test(runbookBaseUrl))
    throw new OperatorConfigError(
      `--runbook-base-url "${runbookBaseUrl}" is invalid: expected an http(s) URL without a #fragment`,
    );
  const peerOf = (
    flag: string,
    namespace: string | undefined,
    rawLabels: string | undefined,
    defaultLabels: string,
  ): OperatorConfig['operatorPeer'] => {
    if (namespace === undefined) return undefined;
    if (!NAME.test(namespace))
      throw new OperatorConfigError(`--${flag}-namespace "${namespace}" is not a valid namespace name`);
    return { namespace, podLabels: labelsOf(`--${flag}-pod-labels`, rawLabels ?? defaultLabels) };
  };
  const operatorPeer = peerOf(
    'operator',
    pick(values['operator-namespace'], 'VELOZ_OPERATOR_NAMESPACE') ?? env['POD_NAMESPACE'],
    pick(values['operator-pod-labels'], 'VELOZ_OPERATOR_POD_LABELS'),
    'app.kubernetes.io/name=veloz-operator',
  );
  const scraperPeer = peerOf(
    'scraper',
    pick(values['scraper-namespace'], 'VELOZ_OPERATOR_SCRAPER_NAMESPACE'),
    pick(values['scraper-pod-labels'], 'VELOZ_OPERATOR_SCRAPER_POD_LABELS'),
    'app.kubernetes.io/name=prometheus',
  );
  return {
    namespaces: namespaces.length ? namespaces : undefined,
    operatorPeer,
    scraperPeer,
    workers: intIn('--workers', pick(values.workers, 'VELOZ_OPERATOR_WORKERS') ?? '4', 1, 64),
    metricsPort: intIn(
      '--metrics-port',
      pick(values['metrics-port'], 'VELOZ_OPERATOR_METRICS_PORT') ?? '8081',
      0,
      65535,
    ),
    metricsHost: pick(values['metrics-host'], 'VELOZ_OPERATOR_METRICS_HOST') ?? '0.0.0.0',
    leaderElect,
    leaseNamespace,
    leaseName,
    identity: env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    logLevel: logLevel as OperatorConfig['logLevel'],
    kubeconfig: values.kubeconfig,
    image: pick(values.image, 'VELOZ_OPERATOR_IMAGE') ?? DEFAULT_IMAGE,
    runbookBaseUrl,
    apiDiscoveryIntervalSeconds: intIn(
      '--api-discovery-interval',
      pick(values['api-discovery-interval'], 'VELOZ_OPERATOR_API_DISCOVERY_INTERVAL') ?? '60',
      5,
      3600,
    ),
    walStatusIntervalSeconds: intIn(
      '--wal-status-interval',
      pick(values['wal-status-interval'], 'VELOZ_OPERATOR_WAL_STATUS_INTERVAL') ?? '30',
      0,
      3600,
    ),
    help: values.help ?? false,
  };
}
