// The backup CronJob's command really works: a Job made from it backs up the engine's WAL onto
// the backup volume, and a second deployment bootstrapped from that backup (spec.restore) starts
// with identical orders.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { createNamespace, eventually } from '../support/cluster.ts';
import {
  client,
  Gateway,
  kubectl,
  localCluster,
  type Obj,
  quickstart,
  ready,
  skipReason,
} from './support/system.ts';
import { names } from '@veloz/api/names';

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

async function deployment(name: string, spec: Record<string, unknown>): Promise<Obj> {
  const d = (await quickstart(ns.name)).deployment;
  return { ...d, metadata: { name, namespace: ns.name }, spec: { ...d.spec, ...spec } };
}

describe.skipIf(skipReason() !== '')('real pods: backup and restore', () => {
  beforeAll(async () => {
    c = client();
    ns = await createNamespace(c, 'bak');
  });
  afterAll(async () => {
    await ns.remove();
    c.close();
  });

  it('backs up with a Job from the CronJob, and bootstraps a second deployment from it', async () => {
    await c.apply(
      await deployment('desk', {
        // Never on its own during the test: the Job below is made from the CronJob by hand.
        backup: { schedule: '0 0 1 1 *', destination: { volume: { size: '1Gi' } } },
      }),
    );
    await ready(c, ns.name, 'desk');
    const desk = await Gateway.of(c, ns.name, 'desk');
    for (let i = 0; i < 20; i++) {
      const r = await desk.place({
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        quantity: '0.001',
        price: '10000.00',
        clientOrderId: `bak-${i}`,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const orders = await desk.orders();

    kubectl('-n', ns.name, 'create', 'job', '--from=cronjob/desk-wal-backup', 'desk-backup-now');
    kubectl('-n', ns.name, 'wait', '--for=condition=Complete', '--timeout=300s', 'job/desk-backup-now');
    const last = await eventually(
      'status.lastBackup from the Job',
      async () => {
        const d = await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'desk');
        return d?.status?.['lastBackup'] as Record<string, unknown> | undefined;
      },
      120_000,
      1000,
    );
    expect(last).toMatchObject({ result: 'Succeeded' });

    if (localCluster() !== '') {
      // The destination is a hostPath volume on this machine: the backup is there.
      const pv = kubectl(
        '-n',
        ns.name,
        'get',
        'pvc',
        names('desk').backupsPvc,
        '-o',
        'jsonpath={.spec.volumeName}',
      );
      const dir = kubectl('get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}');
      const pair0 = join(dir, 'desk', '0');
      expect(existsSync(pair0)).toBe(true);
      const backups = readdirSync(pair0).filter((f) => existsSync(join(pair0, f, 'manifest.json')));
      expect(backups.length).toBeGreaterThan(0);
    }

    await c.apply(
      await deployment('restored', {
        backup: {
          schedule: '0 0 1 1 *',
          suspend: true,
          destination: { volume: { claimName: names('desk').backupsPvc } },
        },
        restore: { fromBackup: { source: '/backups', deployment: 'desk' } },
      }),
    );
    await ready(c, ns.name, 'restored');
    const restored = await Gateway.of(c, ns.name, 'restored');
    const view = (o: { clientOrderId: string; status: string; lastSequence: number }) => [
      o.clientOrderId,
      o.status,
      o.lastSequence,
    ];
    expect((await restored.orders()).map(view)).toEqual(orders.map(view));
  });
});
