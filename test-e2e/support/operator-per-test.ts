// The usual e2e case: a fresh namespace, one operator watching only it, and both gone afterwards,
// with any error the operator logged that no test expected failing the case.
import { afterEach, beforeEach, expect } from 'vitest';
import type { KubeClient } from '@veloz/operator/kube/client';
import { OperatorProcess } from '@veloz/testing/operator-process';
import { client, createNamespace, kubeconfig } from './cluster.ts';

export interface OperatorPerTest {
  c: KubeClient;
  ns: { name: string; remove: () => Promise<void> };
  op: OperatorProcess;
}

/**
 * Registers the hooks; `assign` receives each case's set before the case runs (the suites keep
 * them in module variables, as vitest's hooks cannot return values to the cases).
 */
export function operatorPerTest(assign: (t: OperatorPerTest) => void): void {
  let t: OperatorPerTest | undefined;
  beforeEach(async () => {
    const c = client();
    const ns = await createNamespace(c);
    const op = await OperatorProcess.start({ kubeconfig: kubeconfig(), namespaces: [ns.name] });
    t = { c, ns, op };
    assign(t);
  });
  afterEach(async () => {
    if (!t) return;
    const { c, ns, op } = t;
    t = undefined;
    await op.kill('SIGTERM');
    expect(op.unexpectedErrors()).toEqual([]);
    await ns.remove();
    c.close();
  });
}
