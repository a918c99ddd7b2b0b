import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, VERSION } from '@veloz/api/image';
import { DEFAULT_RUNBOOK_BASE_URL } from '@veloz/api/runbooks';
import { OPERATOR_HELP, loadOperatorConfig } from './config.ts';

describe('loadOperatorConfig', () => {
  it('has production defaults', () => {
    const c = loadOperatorConfig([], {});
    expect(c).toMatchObject({
      namespaces: undefined,
      workers: 4,
      metricsPort: 8081,
      leaderElect: false,
      leaseName: 'veloz-operator',
      walStatusIntervalSeconds: 30,
      apiDiscoveryIntervalSeconds: 60,
      image: DEFAULT_IMAGE,
      runbookBaseUrl: DEFAULT_RUNBOOK_BASE_URL,
    });
    expect(DEFAULT_IMAGE).toBe(`veloz:${VERSION}`);
    expect(OPERATOR_HELP).toContain(`(${DEFAULT_IMAGE})`);
  });

  it('takes the runbook base URL from the flag, else the variable', () => {
    const env = { VELOZ_OPERATOR_RUNBOOK_BASE_URL: 'https://env.example/rb' };
    expect(loadOperatorConfig([], env).runbookBaseUrl).toBe('https://env.example/rb');
    expect(loadOperatorConfig(['--runbook-base-url', 'https://flag.example/rb'], env).runbookBaseUrl).toBe(
      'https://flag.example/rb',
    );
  });

  it('knows its own pods and the scraper by namespace and labels together, for the engines’ NetworkPolicy', () => {
    expect(loadOperatorConfig([], {})).toMatchObject({ operatorPeer: undefined, scraperPeer: undefined });
    expect(loadOperatorConfig([], { POD_NAMESPACE: 'veloz-system' }).operatorPeer).toEqual({
      namespace: 'veloz-system',
      podLabels: { 'app.kubernetes.io/name': 'veloz-operator' },
    });
    const c = loadOperatorConfig(
      [
        '--operator-namespace=ops',
        '--operator-pod-labels=app.kubernetes.io/name=veloz-operator,app.kubernetes.io/instance=r1',
        '--scraper-namespace=monitoring',
      ],
      {},
    );
    expect(c.operatorPeer).toEqual({
      namespace: 'ops',
      podLabels: { 'app.kubernetes.io/name': 'veloz-operator', 'app.kubernetes.io/instance': 'r1' },
    });
    expect(c.scraperPeer).toEqual({
      namespace: 'monitoring',
      podLabels: { 'app.kubernetes.io/name': 'prometheus' },
    });
    expect(() => loadOperatorConfig(['--scraper-namespace=Bad_NS'], {})).toThrow(
      /--scraper-namespace "Bad_NS"/,
    );
    expect(() => loadOperatorConfig(['--operator-namespace=a', '--operator-pod-labels=nolabel'], {})).toThrow(
      /--operator-pod-labels: "nolabel" is not a label/,
    );
    expect(() => loadOperatorConfig(['--operator-namespace=a', '--operator-pod-labels=,'], {})).toThrow(
      /at least one label/,
    );
  });

  it('reads flags before variables', () => {
    const c = loadOperatorConfig(['--namespaces', 'a, b', '--leader-elect', '--workers', '8'], {
      VELOZ_OPERATOR_WORKERS: '2',
      VELOZ_OPERATOR_METRICS_PORT: '9000',
    });
    expect(c).toMatchObject({ namespaces: ['a', 'b'], leaderElect: true, workers: 8, metricsPort: 9000 });
  });

  it.each([
    [['--workers', '0'], {}, '--workers="0" is invalid: expected an integer from 1 to 64'],
    [['--metrics-port', 'x'], {}, '--metrics-port="x" is invalid'],
    [['--namespaces', 'Bad_NS'], {}, '"Bad_NS" is not a valid namespace name'],
    [['--log-level', 'trace'], {}, 'expected one of debug, info, warn, error'],
    [['--frobnicate'], {}, "Unknown option '--frobnicate'"],
    [['--api-discovery-interval', '1'], {}, 'expected an integer from 5 to 3600'],
    [
      [],
      { VELOZ_OPERATOR_WAL_STATUS_INTERVAL: '1m' },
      '--wal-status-interval="1m" is invalid: expected an integer from 0 to 3600',
    ],
    [[], { VELOZ_OPERATOR_LEADER_ELECT: 'maybe' }, 'VELOZ_OPERATOR_LEADER_ELECT="maybe" is invalid'],
    [['--runbook-base-url', 'wiki/runbooks'], {}, '--runbook-base-url "wiki/runbooks" is invalid'],
    [[], { VELOZ_OPERATOR_RUNBOOK_BASE_URL: 'https://x.example/a#b' }, 'without a #fragment'],
  ])('rejects %j %j', (argv, env, message) => {
    expect(() => loadOperatorConfig(argv, env)).toThrow(message);
  });
});
