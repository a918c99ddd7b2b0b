// The operator run outside the cluster (as in development: `veloz operator --kubeconfig`) drives
// real pods too: it reaches the engines through the API server's pod proxy. The in-cluster
// operator is scaled to zero meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { createNamespace } from '../support/cluster.ts';
import { OperatorProcess } from '@veloz/testing/operator-process';
import { scaleOperator } from './support/operator-chart.ts';
import { bin, client, Gateway, kubeconfig, quickstartTrading, skipReason } from './support/system.ts';

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
let op: OperatorProcess | undefined;

describe.skipIf(skipReason() !== '')('real pods: the operator out of cluster', () => {
  beforeAll(async () => {
    scaleOperator(bin(), kubeconfig(), 0);
    c = client();
    ns = await createNamespace(c, 'ooc');
    op = await OperatorProcess.start({ kubeconfig: kubeconfig(), namespaces: [ns.name] });
  });
  afterAll(async () => {
    await op?.kill('SIGTERM');
    await ns.remove();
    c.close();
    scaleOperator(bin(), kubeconfig(), 1);
  });

  it('brings the quickstart up and syncs its strategy into the engine through the pod proxy', async () => {
    const s = await quickstartTrading(c, ns.name);
    expect(s.status?.['runningEngines']).toBe(1);
    const gw = await Gateway.of(c, ns.name, 'quickstart');
    expect((await gw.orders()).some((o) => o.strategy === 'quickstart-grid')).toBe(true);
    expect(op!.unexpectedErrors()).toEqual([]);
  });
});
