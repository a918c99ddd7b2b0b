// ServiceMonitor `X`: Prometheus scrapes every engine and gateway on /metrics.
import { ApiObject } from 'cdk8s';
import { names } from '@veloz/api/names';
import type { Desk, KubernetesObject } from './context.ts';
import { manifest } from './manifest.ts';
import { objectMeta } from './metadata.ts';

export function serviceMonitor(d: Desk): KubernetesObject {
  const x = d.metadata.name;
  const sm = d.spec.monitoring.serviceMonitor;
  return manifest(
    (scope) =>
      new ApiObject(scope, 'service-monitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: objectMeta(d, names(x).monitoring, 'monitoring', { labels: sm.labels }),
        spec: {
          selector: {
            matchLabels: { 'app.kubernetes.io/name': 'veloz', 'app.kubernetes.io/instance': x },
            matchExpressions: [
              { key: 'app.kubernetes.io/component', operator: 'In', values: ['engine', 'gateway'] },
            ],
          },
          endpoints: [
            { port: 'http', path: '/metrics', interval: sm.interval, scheme: 'http' },
            // Gateways serving TLS name their port https. The metrics carry no secret and the
            // certificate's names are the client's, not the pod's: not verified.
            ...(d.spec.gateway.tls
              ? [
                  {
                    port: 'https',
                    path: '/metrics',
                    interval: sm.interval,
                    scheme: 'https',
                    tlsConfig: { insecureSkipVerify: true },
                  },
                ]
              : []),
          ],
        },
      }),
  );
}
