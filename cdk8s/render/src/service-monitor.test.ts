import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { serviceMonitor } from './service-monitor.ts';

describe('serviceMonitor', () => {
  it('scrapes the engines and gateways of the deployment, labelled for the user’s Prometheus', () => {
    const sm = serviceMonitor(
      desk('d1', { monitoring: { serviceMonitor: { labels: { release: 'p' }, interval: '15s' } } }),
    );
    expect([sm.kind, sm.metadata.name, sm.metadata.labels!['release']]).toEqual([
      'ServiceMonitor',
      'd1',
      'p',
    ]);
    expect(sm['spec']).toEqual({
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'veloz', 'app.kubernetes.io/instance': 'd1' },
        matchExpressions: [
          { key: 'app.kubernetes.io/component', operator: 'In', values: ['engine', 'gateway'] },
        ],
      },
      endpoints: [{ port: 'http', path: '/metrics', interval: '15s', scheme: 'http' }],
    });
  });

  it('scrapes gateways serving TLS on their https port', () => {
    const sm = serviceMonitor(desk('d1', { gateway: { tls: { secretName: 'c' } } }));
    expect((sm['spec'] as { endpoints: unknown[] }).endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '30s', scheme: 'http' },
      {
        port: 'https',
        path: '/metrics',
        interval: '30s',
        scheme: 'https',
        tlsConfig: { insecureSkipVerify: true },
      },
    ]);
  });
});
