// spec.gateway.tls.issuerRef on a real API server with cert-manager's own Certificate CRD (the CRD
// only, no cert-manager controller): the operator renders a Certificate the CRD's schema accepts,
// says on Degraded that the Secret is not issued yet, and once the Secret is written as
// cert-manager writes it, starts the gateways with it mounted. A real gateway process serving the
// Secret's files (laid out as the kubelet mounts them) answers with that certificate, and with the
// renewed one after cert-manager's next write, while the StatefulSet is not rolled.
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '@veloz/api/names';
import type { KubeClient } from '@veloz/operator/kube/client';
import { RESOURCES, resourceFor, type KubernetesObject } from '@veloz/operator/kube/resources';
import { applyCrd, readManifests } from '@veloz/testing/crds';
import { freePort } from '@veloz/testing/engine-process';
import { startVeloz } from '@veloz/testing/gateway';
import { MountedSecretDir, selfSignedCertificate, type CertificatePair } from '@veloz/testing/tls';
import { client, eventually } from './support/cluster.ts';
import { operatorPerTest } from './support/operator-per-test.ts';
import { sample } from './support/samples.ts';

const q = names('quickstart');
const CRD = join(import.meta.dirname, '..', 'engine', 'testing', 'crds', 'cert-manager.io_certificates.yaml');
const CERTIFICATE = resourceFor('cert-manager.io/v1', 'Certificate');
type Obj = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

const issued = selfSignedCertificate('issued');
const renewed = selfSignedCertificate('renewed');
const noOpenssl = [issued, renewed].find((x): x is string => typeof x === 'string');

let c: KubeClient;
let ns: { name: string; remove: () => Promise<void> };
let installed = false;

/** GET over HTTPS trusting `ca`: the status and the fingerprint of the certificate served. */
function get(port: number, ca: string[]) {
  return new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/health', ca, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
  });
}
const fingerprintOf = (p: CertificatePair) => new X509Certificate(p.cert).fingerprint256;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The Secret as cert-manager's issuing controller writes it. */
const certManagerSecret = (p: CertificatePair) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/tls',
  metadata: {
    name: 'desk-tls',
    namespace: ns.name,
    annotations: { 'cert-manager.io/certificate-name': q.gateway, 'cert-manager.io/issuer-name': 'desk-ca' },
  },
  data: { 'tls.crt': b64(p.cert), 'tls.key': b64(p.key), 'ca.crt': b64(p.cert) },
});

describe.skipIf(noOpenssl !== undefined)(
  'gateway certificates through cert-manager on a real API server',
  () => {
    beforeAll(async () => {
      const admin = client();
      try {
        // The operator discovers the API at start: the CRD comes first.
        installed = !(await admin.find(RESOURCES.crd, undefined, 'certificates.cert-manager.io'));
        for (const crd of await readManifests(CRD)) await applyCrd(admin, crd);
      } finally {
        admin.close();
      }
    });
    afterAll(async () => {
      if (!installed) return;
      const admin = client();
      try {
        await admin.delete(RESOURCES.crd, undefined, 'certificates.cert-manager.io');
      } finally {
        admin.close();
      }
    });

    operatorPerTest((t) => ({ c, ns } = t));

    it('renders the Certificate, waits for its Secret, and the gateway serves it and its renewal', async () => {
      const a = issued as CertificatePair;
      const b = renewed as CertificatePair;
      const d = await sample<Obj>('VelozDeployment', ns.name);
      await c.apply({
        ...d,
        spec: {
          ...d.spec,
          gateway: {
            ...(d.spec['gateway'] as object),
            tls: { secretName: 'desk-tls', issuerRef: { name: 'desk-ca' }, dnsNames: ['desk.example.com'] },
          },
        },
      });

      // Accepted by cert-manager's own schema, owned by the desk.
      const cert = await eventually('the Certificate', async () =>
        c.find<Obj>(CERTIFICATE, ns.name, q.gateway),
      );
      expect(cert.spec).toMatchObject({
        secretName: 'desk-tls',
        issuerRef: { name: 'desk-ca', kind: 'Issuer', group: 'cert-manager.io' },
        dnsNames: [
          'quickstart',
          `quickstart.${ns.name}`,
          `quickstart.${ns.name}.svc`,
          `quickstart.${ns.name}.svc.cluster.local`,
          'desk.example.com',
        ],
      });
      expect(cert.metadata?.ownerReferences).toMatchObject([{ kind: 'VelozDeployment', name: 'quickstart' }]);
      type Condition = { type: string; reason: string; message: string };
      const degraded = async () =>
        (
          (await c.find<Obj>(RESOURCES.velozDeployment, ns.name, 'quickstart'))?.status?.['conditions'] as
            Condition[] | undefined
        )?.find((x) => x.type === 'Degraded');
      const waiting = await eventually('Degraded: not issued yet', async () => {
        const x = await degraded();
        return x?.reason === 'TLSSecretInvalid' && x;
      });
      expect(waiting.message).toBe(
        `TLS Secret desk-tls (spec.gateway.tls.secretName) not found yet: cert-manager has not issued Certificate ${q.gateway} (Issuer desk-ca)`,
      );
      expect(await c.find(RESOURCES.statefulSet, ns.name, q.gateway)).toBeUndefined();

      // cert-manager issues: the gateways start with the Secret mounted.
      await c.apply(certManagerSecret(a));
      type Sts = Obj & {
        spec: { template: { spec: { volumes: Array<{ name: string; secret?: { secretName: string } }> } } };
      };
      const sts = await eventually('the gateway StatefulSet', async () =>
        c.find<Sts>(RESOURCES.statefulSet, ns.name, q.gateway),
      );
      expect(sts.spec.template.spec.volumes).toContainEqual(
        expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: 'desk-tls' }) }),
      );
      await eventually('Degraded cleared', async () => (await degraded())?.reason === 'AsExpected');

      // A gateway process serving the Secret's files as the kubelet lays them out.
      const read = async () =>
        (await c.get<{ data: Record<string, string> }>(RESOURCES.secret, ns.name, 'desk-tls')).data;
      const files = (data: Record<string, string>) => ({
        'tls.crt': unb64(data['tls.crt']),
        'tls.key': unb64(data['tls.key']),
      });
      const mounted = new MountedSecretDir(files(await read()));
      const port = await freePort();
      const gateway = await startVeloz(
        ['gateway', '--port', String(port), '--host', '127.0.0.1', '--engine-url', 'http://127.0.0.1:9'],
        {
          VELOZ_API_KEY: 'k-cert-manager-0123456789',
          VELOZ_GATEWAY_TLS_CERT_FILE: mounted.path('tls.crt'),
          VELOZ_GATEWAY_TLS_KEY_FILE: mounted.path('tls.key'),
        },
        async () => (await get(port, [a.cert])).status,
        [200],
        // A gateway starts in a second or two; on the shared 2-core machine under a cluster, longer.
        120_000,
      );
      try {
        expect(await get(port, [a.cert])).toEqual({ status: 200, fingerprint: fingerprintOf(a) });

        // cert-manager renews into the same Secret; the kubelet swaps the files; nothing rolls.
        const generation = sts.metadata?.generation;
        await c.apply(certManagerSecret(b));
        mounted.update(files(await read()));
        await eventually(
          'the renewed certificate served',
          async () => (await get(port, [a.cert, b.cert])).fingerprint === fingerprintOf(b),
          30_000,
        );
        expect(gateway.child.exitCode).toBeNull();
        await new Promise((r) => setTimeout(r, 3_000));
        expect((await c.get<Sts>(RESOURCES.statefulSet, ns.name, q.gateway)).metadata?.generation).toBe(
          generation,
        );
        expect((await degraded())?.reason).toBe('AsExpected');
      } finally {
        await gateway.stop();
        mounted.remove();
      }
    });
  },
);
