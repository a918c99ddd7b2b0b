// The gateways' TLS Secret and source ranges against a real API server and a real operator: a
// missing Secret, or one without tls.crt, is a Degraded condition naming it (no gateways start,
// so none crash-loop); a good one starts them with the Secret mounted, and a rotated certificate
// does not roll them. Source ranges reach the Service and the NetworkPolicy, and a malformed one
// is refused by the API server with the CRD's message.
import { describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, type KubernetesObject } from '@veloz/operator/kube/resources';
import { selfSignedCertificate, type CertificatePair } from '@veloz/testing/tls';
import { eventually } from './support/cluster.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { sample } from './support/samples.ts';

const q = names('quickstart');
type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

const certA = selfSignedCertificate('a');
const certB = selfSignedCertificate('b');
const noOpenssl = [certA, certB].find((c): c is string => typeof c === 'string');

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };

operatorPerTest((t) => ({ c, ns } = t));

async function quickstart(gateway: Record<string, unknown>): Promise<Obj> {
  const d = await sample<Obj>('VelozDeployment', ns.name);
  const spec = { ...d.spec, gateway: { ...(d.spec['gateway'] as object), ...gateway } };
  return { ...d, spec };
}

const degraded = async () => {
  const d = await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart');
  return (d?.status?.['conditions'] as Condition[] | undefined)?.find((x) => x.type === 'Degraded');
};

const tlsSecret = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'desk-tls', namespace: ns.name },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe.skipIf(noOpenssl !== undefined)('gateway TLS Secret on a real API server', () => {
  const a = certA as CertificatePair;
  const b = certB as CertificatePair;

  it('reports a missing or incomplete Secret on Degraded and starts the gateways once it is good', async () => {
    await c.apply(await quickstart({ tls: { secretName: 'desk-tls' } }));
    const missing = await eventually('Degraded TLSSecretInvalid', async () => {
      const d = await degraded();
      return d?.reason === 'TLSSecretInvalid' && d;
    });
    expect(missing).toMatchObject({
      status: 'True',
      message: 'TLS Secret desk-tls (spec.gateway.tls.secretName) not found',
    });
    // The engines start; the gateways wait for their certificate.
    await eventually('the engine StatefulSet', async () => c.find(RESOURCES.statefulSet, ns.name, q.engine));
    expect(await c.find(RESOURCES.statefulSet, ns.name, q.gateway)).toBeUndefined();

    await c.apply(tlsSecret({ 'tls.key': a.key }));
    await eventually('the message naming tls.crt', async () => {
      const d = await degraded();
      return (
        d?.message === 'TLS Secret desk-tls (spec.gateway.tls.secretName): no (or an empty) key tls.crt' && d
      );
    });
    expect(await c.find(RESOURCES.statefulSet, ns.name, q.gateway)).toBeUndefined();

    await c.apply(tlsSecret({ 'tls.crt': a.cert, 'tls.key': a.key }));
    type Sts = Obj & {
      spec: {
        template: {
          metadata: { annotations?: Record<string, string> };
          spec: { volumes: Array<{ name: string; secret?: { secretName: string } }> };
        };
      };
    };
    const sts = await eventually('the gateway StatefulSet', async () =>
      c.find<Sts>(RESOURCES.statefulSet, ns.name, q.gateway),
    );
    expect(sts.spec.template.spec.volumes).toContainEqual(
      expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: 'desk-tls' }) }),
    );
    await eventually('Degraded cleared', async () => (await degraded())?.reason === 'AsExpected');

    // A rotated certificate is the gateways' to pick up: the pod template does not change.
    const generation = sts.metadata!.generation;
    await c.apply(tlsSecret({ 'tls.crt': b.cert, 'tls.key': b.key }));
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await c.find<Sts>(RESOURCES.statefulSet, ns.name, q.gateway);
    expect(after!.metadata!.generation).toBe(generation);
    expect((await degraded())?.reason).toBe('AsExpected');
  });
});

describe('gateway source ranges on a real API server', () => {
  it('limits the load balancer and admits only the ranges through the NetworkPolicy', async () => {
    const ranges = ['203.0.113.0/24', '2001:db8::/32'];
    await c.apply(
      await quickstart({ allowedSourceRanges: ranges, service: { type: 'LoadBalancer', port: 8080 } }),
    );
    type Svc = Obj & { spec: { loadBalancerSourceRanges?: string[]; externalTrafficPolicy?: string } };
    const svc = await eventually('the gateway Service', async () =>
      c.find<Svc>(RESOURCES.service, ns.name, q.service),
    );
    expect(svc.spec).toMatchObject({ loadBalancerSourceRanges: ranges, externalTrafficPolicy: 'Local' });
    type Np = Obj & { spec: { ingress: Array<{ from: Array<{ ipBlock?: { cidr: string } }> }> } };
    const np = await eventually('the gateway NetworkPolicy', async () =>
      c.find<Np>(RESOURCES.networkPolicy, ns.name, q.gateway),
    );
    expect(np.spec.ingress[0]!.from.flatMap((p) => (p.ipBlock ? [p.ipBlock.cidr] : []))).toEqual(ranges);
  });

  it('is refused by the API server for a malformed range, with the CRD’s message', async () => {
    const err = await c.apply(await quickstart({ allowedSourceRanges: ['10.0.0.0/8', '10.0.0.1'] })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('spec.gateway.allowedSourceRanges[1]');
    expect(err?.message).toContain(
      'gateway.allowedSourceRanges entries must be CIDRs such as 203.0.113.0/24 or 2001:db8::/32',
    );
  });
});
