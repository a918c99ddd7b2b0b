// The Prometheus Operator installed while the operator runs: without a restart, the operator
// starts watching ServiceMonitors and PrometheusRules and every deployment gets its own, and
// MonitoringReady turns True. It deletes the monitoring CRDs for a while (and puts them back),
// so it runs only on a throwaway cluster: the project's own local one, or the kind cluster
// hack/kind-up.sh made; on any other $KUBECONFIG it is skipped, saying why.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dirname, join } from 'node:path';
import { isNotFound, type KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { toolsDir } from '@veloz/testing/chart-helm';
import { applyCrd, readManifests } from '@veloz/testing/crds';
import { client, createNamespace, eventually, kubeconfig } from './support/cluster.ts';
import { notOwnKindCluster } from './support/kind.ts';
import { OperatorProcess } from '@veloz/testing/operator-process';

type Obj = KubernetesObject & {
  status?: { conditions?: Array<{ type: string; status: string; reason: string }> };
};

const CRDS = ['servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com'];
let c: KubeClient;
let saved: KubernetesObject[] = [];
let absentAtStart = false;

/** A CRD as it can be applied again: what its author wrote, not what the server added. */
function manifest(crd: KubernetesObject & { spec?: unknown }): KubernetesObject {
  return {
    apiVersion: crd.apiVersion,
    kind: crd.kind,
    metadata: {
      name: crd.metadata?.name ?? '',
      ...(crd.metadata?.annotations ? { annotations: crd.metadata.annotations } : {}),
    },
    spec: crd.spec,
  };
}

/**
 * The CRDs as the Prometheus Operator ships them, from the build the local cluster installs them
 * from (hack/build-k8s.sh): a kind cluster starts without them.
 */
async function builtMonitoringCrds(): Promise<KubernetesObject[]> {
  const bin = toolsDir();
  if (!bin) throw new Error('the monitoring CRDs are not built: run hack/build-k8s.sh crds');
  const files = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'];
  return (await Promise.all(files.map((f) => readManifests(join(dirname(bin), 'crds', f))))).flat();
}

async function deleteCrd(name: string): Promise<void> {
  await c.delete(RESOURCES.crd, undefined, name).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

async function restoreCrds(): Promise<void> {
  for (const crd of saved) await applyCrd(c, crd);
}

const notThrowaway =
  inject('localCluster') === ''
    ? await notOwnKindCluster(client()).then((why) =>
        why
          ? `it deletes the monitoring CRDs for a while, and the cluster is neither the local one nor hack/kind-up.sh's: ${why}`
          : '',
      )
    : '';
if (notThrowaway)
  console.warn(`skipped "the monitoring API installed while the operator runs": ${notThrowaway}`);

describe.skipIf(notThrowaway !== '')('the monitoring API installed while the operator runs', () => {
  beforeAll(async () => {
    c = client();
    const found = await Promise.all(CRDS.map((n) => c.find<KubernetesObject>(RESOURCES.crd, undefined, n)));
    absentAtStart = !found.every(Boolean);
    saved = absentAtStart ? await builtMonitoringCrds() : found.map((crd) => manifest(crd!));
  });
  afterAll(async () => {
    // The cluster is left as found: a kind cluster without the Prometheus Operator stays without.
    if (absentAtStart) for (const n of CRDS) await deleteCrd(n);
    else await restoreCrds();
    c.close();
  });

  it('watches the new kinds and applies every deployment’s ServiceMonitor and PrometheusRule', async () => {
    for (const n of CRDS) await deleteCrd(n);
    await eventually(
      'the monitoring CRDs to be gone',
      async () => (await Promise.all(CRDS.map((n) => c.find(RESOURCES.crd, undefined, n)))).every((x) => !x),
      120_000,
    );
    await eventually(
      'the monitoring API to go away',
      async () => !(await c.serves('monitoring.coreos.com', 'v1', 'servicemonitors')),
    );
    const ns = await createNamespace(c, 'mon');
    const op = await OperatorProcess.start({
      kubeconfig: kubeconfig(),
      namespaces: [ns.name],
      args: ['--api-discovery-interval', '5'],
    });
    try {
      await c.apply({
        apiVersion: 'veloz.io/v1alpha1',
        kind: 'VelozDeployment',
        metadata: { name: 'desk', namespace: ns.name },
        spec: {
          pairs: 1,
          market: { source: 'sim', symbols: ['BTCUSDT'] },
          execution: { mode: 'sim_engine' },
        },
      });
      /** The MonitoringReady condition once its status is `status`. */
      const monitoringReady = async (status: string) => {
        const m = (await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'desk'))?.status?.conditions?.find(
          (x) => x.type === 'MonitoringReady',
        );
        return m?.status === status && m;
      };
      expect(await eventually('MonitoringReady=False', () => monitoringReady('False'))).toMatchObject({
        reason: 'MonitoringAPINotServed',
      });

      await restoreCrds();
      await eventually(
        'the ServiceMonitor and PrometheusRule',
        async () =>
          !!(await c.find(RESOURCES.serviceMonitor, ns.name, 'desk')) &&
          !!(await c.find(RESOURCES.prometheusRule, ns.name, 'desk')),
      );
      expect(await eventually('MonitoringReady=True', () => monitoringReady('True'))).toMatchObject({
        reason: 'Applied',
      });
      // Its new informers keep the objects repaired like any other child.
      await c.delete(RESOURCES.serviceMonitor, ns.name, 'desk');
      await eventually(
        'the ServiceMonitor repaired',
        async () => !!(await c.find(RESOURCES.serviceMonitor, ns.name, 'desk')),
      );
      expect(op.unexpectedErrors()).toEqual([]);
    } finally {
      await op.kill('SIGTERM');
      await ns.remove();
    }
  });
});
