import { describe, expect, it } from 'vitest';
import { desk } from '@veloz/testing/desk';
import { engineService } from './engine-service.ts';

describe('engineService', () => {
  it('is headless, selects the engines and publishes them before they are ready', () => {
    const svc = engineService(desk('d1'));
    expect(svc.metadata.name).toBe('d1-engine');
    expect(svc['spec']).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
      selector: {
        'app.kubernetes.io/name': 'veloz',
        'app.kubernetes.io/instance': 'd1',
        'app.kubernetes.io/component': 'engine',
      },
    });
  });
});
