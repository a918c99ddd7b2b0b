import { describe, expect, it } from 'vitest';
import { names } from './names.ts';

// The names of DESIGN §4, written out literally: the contract names() must keep, since users,
// dashboards and runbooks refer to them.
describe('names', () => {
  it('derives every object name of deployment X', () => {
    const n = names('x');
    expect({ ...n }).toMatchObject({
      apiKeySecret: 'x-gateway-api-key',
      config: 'x-config',
      engine: 'x-engine',
      gateway: 'x-gateway',
      service: 'x',
      serviceAccount: 'x',
      backupCronJob: 'x-wal-backup',
      backupsPvc: 'x-backups',
      monitoring: 'x',
      walClaimTemplate: 'wal',
      enginePodPattern: 'x-engine-[0-9]+',
      pairStatefulSetPattern: 'x-(engine|gateway)',
    });
  });

  it('derives the names of pair i: pods, WAL claim, DNS name and URL', () => {
    const n = names('x');
    expect([n.enginePod(2), n.gatewayPod(2), n.walClaim(2), n.engineHost(2), n.engineUrl(2)]).toEqual([
      'x-engine-2',
      'x-gateway-2',
      'wal-x-engine-2',
      'x-engine-2.x-engine',
      'http://x-engine-2.x-engine:8080',
    ]);
    expect(n.engineUrl('$(POD_INDEX)')).toBe('http://x-engine-$(POD_INDEX).x-engine:8080');
    expect(new RegExp(`^${n.enginePodPattern}$`).test(n.enginePod(12))).toBe(true);
    expect(new RegExp(`^${n.enginePodPattern}$`).test(n.gatewayPod(1))).toBe(false);
    const sets = new RegExp(`^${n.pairStatefulSetPattern}$`);
    expect([n.engine, n.gateway, n.config].map((s) => sets.test(s))).toEqual([true, true, false]);
  });
});
