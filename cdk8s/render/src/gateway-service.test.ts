import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { gatewayService } from './gateway-service.ts';

describe('gatewayService', () => {
  it('exposes the gateways with the type, port and annotations of the spec, sticky per client', () => {
    const svc = gatewayService(
      desk('d1', { gateway: { service: { type: 'LoadBalancer', port: 443, annotations: { a: 'b' } } } }),
    );
    expect(svc.metadata).toMatchObject({ name: 'd1', annotations: { a: 'b' } });
    expect(svc['spec']).toMatchObject({
      type: 'LoadBalancer',
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'http', port: 443, targetPort: 8080, protocol: 'TCP' }],
      selector: { 'app.kubernetes.io/instance': 'd1', 'app.kubernetes.io/component': 'gateway' },
    });
  });
});

describe('gatewayService with allowed source ranges', () => {
  const ranges = ['203.0.113.0/24', '2001:db8::/32'];

  it('lets a load balancer admit only those ranges, keeping client addresses (Local)', () => {
    const svc = gatewayService(
      desk('d1', { gateway: { allowedSourceRanges: ranges, service: { type: 'LoadBalancer' } } }),
    );
    expect(svc['spec']).toMatchObject({ loadBalancerSourceRanges: ranges, externalTrafficPolicy: 'Local' });
  });

  it('keeps client addresses on a node port, and sets neither field on a ClusterIP Service', () => {
    const np = gatewayService(
      desk('d1', { gateway: { allowedSourceRanges: ranges, service: { type: 'NodePort' } } }),
    );
    expect(np['spec']).toMatchObject({ externalTrafficPolicy: 'Local' });
    expect(np['spec']).not.toHaveProperty('loadBalancerSourceRanges');
    const cip = gatewayService(desk('d1', { gateway: { allowedSourceRanges: ranges } }));
    expect(cip['spec']).not.toHaveProperty('loadBalancerSourceRanges');
    expect(cip['spec']).not.toHaveProperty('externalTrafficPolicy');
  });

  it('names its port https when the gateways serve TLS', () => {
    const svc = gatewayService(desk('d1', { gateway: { tls: { secretName: 'cert' } } }));
    expect(svc['spec']).toMatchObject({ ports: [{ name: 'https', port: 8080, targetPort: 8080 }] });
  });
});
