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
