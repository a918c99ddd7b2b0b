// VelozDeployment against a real API server: children with owner references, status with
// observedGeneration, updates, repairs, pause, WAL growth and deletion (also one held by an
// engine that does not answer: the pods of this suite run on fake nodes, where none does).
// The same cases run on real nodes (kind, docs/kind.md): image changes only rename the image every
// node already holds, and WAL growth needs a StorageClass that allows expansion.
import { describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject, type ResourceRef } from '@veloz/operator/kube/resources';
import type { OperatorProcess } from '@veloz/testing/operator-process';
import { eventually, nodeOf } from './support/cluster.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { IMAGE_ALIASES } from './support/images.ts';
import { sample } from './support/samples.ts';

const q = names('quickstart');

const [RENAMED_IMAGE, PAUSED_IMAGE] = IMAGE_ALIASES;
const STORAGE_CLASS: ResourceRef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  namespaced: false,
};

type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
let op: OperatorProcess;

operatorPerTest((t) => ({ c, ns, op } = t));

const quickstart = (kind = 'VelozDeployment') => sample<Obj>(kind, ns.name);

const get = (r: ResourceRef = RESOURCES.velozDeployment, name = 'quickstart') =>
  c.find<Obj>(r, ns.name, name);
const condition = (o: Obj | undefined, type: string) =>
  (
    o?.status?.['conditions'] as
      Array<{ type: string; status: string; reason: string; message: string }> | undefined
  )?.find((x) => x.type === type);

/** Events of this namespace with `reason`, as `Type Kind/name: message`. */
async function eventsWith(reason: string): Promise<string[]> {
  const list = await c.list<{
    type: string;
    reason: string;
    message: string;
    involvedObject: { kind: string; name: string };
  }>(RESOURCES.event, ns.name);
  return list.items
    .filter((e) => e.reason === reason)
    .map((e) => `${e.type} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
}

// Real nodes (kind) start real engines, slowly on a loaded machine: minutes, not seconds.
async function ready(generation?: number): Promise<Obj> {
  return eventually(
    'the deployment to be Ready',
    async () => {
      const d = await get();
      const gen = generation ?? d?.metadata?.generation;
      return d?.status?.['observedGeneration'] === gen && condition(d, 'Ready')?.status === 'True' && d;
    },
    300_000,
  );
}

async function update(patch: Record<string, unknown>): Promise<number> {
  const d = await c.mergePatch<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart', { spec: patch });
  return d.metadata!.generation!;
}

describe('VelozDeployment on a real API server', () => {
  it('creates every child with owner references and converges its status', async () => {
    await c.apply(await quickstart());
    const d = await ready();
    expect(d.status).toMatchObject({
      phase: 'Ready',
      readyPairs: 1,
      observedGeneration: 1,
      gatewayService: q.service,
    });
    const uid = d.metadata!.uid;
    for (const [r, name] of [
      [RESOURCES.secret, q.apiKeySecret],
      [RESOURCES.configMap, q.config],
      [RESOURCES.statefulSet, q.engine],
      [RESOURCES.statefulSet, q.gateway],
      [RESOURCES.service, q.service],
      [RESOURCES.service, q.engine],
      [RESOURCES.pdb, q.engine],
      [RESOURCES.networkPolicy, q.engine],
      [RESOURCES.cronJob, q.backupCronJob],
      [RESOURCES.serviceAccount, q.serviceAccount],
    ] as const) {
      const child = await get(r, name);
      expect(child, `${r.kind} ${name}`).toBeDefined();
      expect(child!.metadata!.ownerReferences).toEqual([
        expect.objectContaining({ uid, controller: true, kind: 'VelozDeployment' }),
      ]);
    }
    const pvc = await get(RESOURCES.pvc, q.walClaim(0));
    expect(pvc?.status?.['phase']).toBe('Bound');
    // No strategy, no account: owner references alone take its children (ADR 30).
    expect(d.metadata!.finalizers ?? []).not.toContain('veloz.io/deployment-cleanup');
  });

  it('rolls out an image change and scales pairs up and down', async () => {
    await c.apply(await quickstart());
    await ready();
    let gen = await update({ image: RENAMED_IMAGE });
    await ready(gen);
    const sts = await get(RESOURCES.statefulSet, q.engine);
    expect(JSON.stringify(sts!.spec['template'])).toContain(RENAMED_IMAGE);
    gen = await update({ pairs: 3 });
    expect((await ready(gen)).status).toMatchObject({ readyPairs: 3 });
    gen = await update({ pairs: 1 });
    expect((await ready(gen)).status).toMatchObject({ readyPairs: 1 });
    gen = await update({ pairs: 0 });
    const hibernated = await ready(gen);
    expect(hibernated.status).toMatchObject({ phase: 'Hibernated', readyPairs: 0 });
    expect(await get(RESOURCES.pvc, q.walClaim(0))).toBeDefined();
  });

  it('repairs a child deleted or edited by hand', async () => {
    await c.apply(await quickstart());
    await ready();
    await c.delete(RESOURCES.configMap, ns.name, q.config);
    await c.mergePatch(RESOURCES.statefulSet, ns.name, q.gateway, { spec: { replicas: 4 } });
    await eventually('the ConfigMap to be recreated', () => get(RESOURCES.configMap, q.config));
    await eventually(
      'the hand edit to be reverted',
      async () => (await get(RESOURCES.statefulSet, q.gateway))?.spec['replicas'] === 1,
    );
  });

  it('changes nothing while paused, and catches up when resumed', async () => {
    await c.apply(await quickstart());
    await ready();
    let gen = await update({ paused: true });
    await eventually('Paused', async () => {
      const d = await get();
      return d?.status?.['observedGeneration'] === gen && condition(d, 'Paused')?.status === 'True';
    });
    gen = await update({ image: PAUSED_IMAGE });
    await eventually(
      'the paused generation to be observed',
      async () => (await get())?.status?.['observedGeneration'] === gen,
    );
    expect(JSON.stringify((await get(RESOURCES.statefulSet, q.engine))!.spec['template'])).not.toContain(
      PAUSED_IMAGE,
    );
    gen = await update({ paused: false });
    await ready(gen);
    expect(JSON.stringify((await get(RESOURCES.statefulSet, q.engine))!.spec['template'])).toContain(
      PAUSED_IMAGE,
    );
  });

  it('grows the WAL volume of running pairs', async (ctx) => {
    await c.apply(await quickstart());
    await ready();
    const bound = await get(RESOURCES.pvc, q.walClaim(0));
    const className = bound?.spec['storageClassName'] as string | undefined;
    const sc = className ? await c.find<Obj>(STORAGE_CLASS, undefined, className) : undefined;
    if (sc?.['allowVolumeExpansion'] !== true) {
      const reason = `StorageClass ${className ?? '(none)'} does not allow volume expansion (kind's local-path class): the API server would refuse the claim's growth`;
      console.warn(`skipped "grows the WAL volume of running pairs": ${reason}`);
      ctx.skip(reason);
    }
    const before = (await get(RESOURCES.pod, q.enginePod(0)))!.metadata!.uid;
    const d = await get();
    const wal = d!.spec['wal'] as { storage: { size: string } };
    const gen = await update({ wal: { storage: { size: `${parseInt(wal.storage.size, 10) + 1}Gi` } } });
    await eventually('the StatefulSet to carry the new claim size', async () => {
      const sts = await get(RESOURCES.statefulSet, q.engine);
      return JSON.stringify(sts?.spec['volumeClaimTemplates']).includes(
        `${parseInt(wal.storage.size, 10) + 1}Gi`,
      );
    });
    const pvc = await get(RESOURCES.pvc, q.walClaim(0));
    expect(JSON.stringify(pvc!.spec['resources'])).toContain(`${parseInt(wal.storage.size, 10) + 1}Gi`);
    await ready(gen);
    expect((await get(RESOURCES.pod, q.enginePod(0)))!.metadata!.uid).toBe(before);
  });

  it('shrinking the WAL volume is refused by the API server', async () => {
    await c.apply(await quickstart());
    await ready();
    await expect(update({ wal: { storage: { size: '1Mi' } } })).rejects.toThrow(/WAL|grow|shrink/i);
  });

  it('a deletion held by an engine that does not answer says why, and veloz.io/abandon-engines lets it go', async (ctx) => {
    await c.apply(await quickstart());
    await c.apply(await quickstart('VelozStrategy'));
    await ready();
    const node = await nodeOf(c, ns.name, q.enginePod(0));
    if (!node?.fake) {
      const reason = `engine-0 runs on node ${node?.name ?? '(none)'}, not a kwok fake node: a real engine answers, and this case needs one that does not`;
      console.warn(`skipped "a deletion held by an engine that does not answer": ${reason}`);
      ctx.skip(reason);
    }
    // The desk carries its finalizer once a strategy refers to it (ADR 30), added by the same pass.
    await eventually(
      'the strategy and its desk to carry their finalizers',
      async () =>
        (await get(RESOURCES.velozStrategy, 'quickstart-grid'))?.metadata?.finalizers?.includes(
          'veloz.io/strategy-cleanup',
        ) && (await get())?.metadata?.finalizers?.includes('veloz.io/deployment-cleanup'),
    );
    await c.delete(RESOURCES.velozDeployment, ns.name, 'quickstart');
    const blocked = await eventually(
      'the deployment to say what its deletion waits for',
      async () => {
        const deleting = condition(await get(), 'Deleting');
        return deleting?.reason === 'CleanupBlocked' && deleting;
      },
      180_000,
    );
    expect(blocked.status).toBe('True');
    expect(blocked.message).toMatch(
      /^VelozStrategy quickstart-grid: cannot stop the strategy yet: engine .*quickstart-engine-0/,
    );
    expect(blocked.message).toContain('kubectl annotate vzd quickstart veloz.io/abandon-engines=true');
    expect(condition(await get(RESOURCES.velozStrategy, 'quickstart-grid'), 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'CleanupPending',
    });
    expect(await eventsWith('CleanupBlocked')).toContainEqual(
      expect.stringMatching(/^Warning VelozDeployment\/quickstart: VelozStrategy quickstart-grid: /),
    );
    expect(await eventsWith('CleanupPending')).toContainEqual(
      expect.stringMatching(/^Warning VelozStrategy\/quickstart-grid: deletion waits: .*quickstart-engine-0/),
    );
    // It keeps waiting: nothing is abandoned without the annotation.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await get()).toBeDefined();

    await c.mergePatch(RESOURCES.velozDeployment, ns.name, 'quickstart', {
      metadata: { annotations: { 'veloz.io/abandon-engines': 'true' } },
    });
    await eventually(
      'the strategy to be gone',
      async () => !(await get(RESOURCES.velozStrategy, 'quickstart-grid')),
      180_000,
    );
    await eventually('the deployment to be gone', async () => !(await get()), 60_000);
    const abandoned = await eventsWith('EnginesAbandoned');
    for (const on of ['VelozStrategy/quickstart-grid', 'VelozDeployment/quickstart'])
      expect(abandoned).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^Warning ${on}: veloz.io/abandon-engines: VelozStrategy quickstart-grid deleted without stopping it on quickstart-engine-0 .*may remain open on the exchange`,
          ),
        ),
      );
    expect(op.lines).toContainEqual(
      expect.objectContaining({ level: 40, strategy: 'quickstart-grid', engine: 'quickstart-engine-0' }),
    );
  });

  it.each([
    [true, 'kept'],
    [false, 'deleted'],
  ])(
    'deletion runs the finalizer, children are garbage-collected, WAL volumes with retainOnDelete=%s are %s',
    async (retain) => {
      const d = await quickstart();
      await c.apply({ ...d, spec: { ...d.spec, wal: { storage: { retainOnDelete: retain } } } });
      await ready();
      await c.delete(RESOURCES.velozDeployment, ns.name, 'quickstart');
      await eventually('the deployment to be gone', async () => !(await get()));
      await eventually(
        'the StatefulSets to be collected',
        async () => !(await get(RESOURCES.statefulSet, q.engine)),
      );
      if (retain) {
        // Give the garbage collector time to act on anything it would delete.
        await new Promise((r) => setTimeout(r, 3_000));
        expect(await get(RESOURCES.pvc, q.walClaim(0))).toBeDefined();
      } else {
        await eventually(
          'the WAL claim to be deleted',
          async () => !(await get(RESOURCES.pvc, q.walClaim(0))),
        );
      }
    },
  );
});
