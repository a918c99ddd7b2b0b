// Self-fencing against a real API server (the project's local cluster): a real engine process
// holds its pair's Lease with a service account token bound to a Role on that Lease only, while
// orders flow. Cut off from the API server (its only way there is a TCP proxy the test stops),
// it stops placing orders: none is accepted after its last renewal plus the lease duration, as
// the API server recorded the renewal. When the proxy is back it resumes by itself. Then another
// holder takes the Lease, and the engine is fenced until that holder lets it expire.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, clusterBinariesBuilt, run, toolsDir } from '@veloz/testing/chart-helm';
import { startEngineProcess, type EngineProcess } from '@veloz/testing/engine-process';

const NS = 'fence';
const LEASE = 'desk-engine-0';
const DURATION_S = 6;
const built = clusterBinariesBuilt();

interface Lease {
  metadata: { resourceVersion: string };
  spec: { holderIdentity?: string | null; renewTime?: string; leaseDurationSeconds?: number };
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP proxy to the API server that can be cut (every connection dropped) and restored. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private readonly host: string;
  private readonly target: number;

  constructor(host: string, target: number) {
    this.host = host;
    this.target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const addr = server.address();
    if (typeof addr === 'object' && addr) this.port = addr.port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

describe.skipIf(!built)(
  built
    ? 'self-fencing on a real API server'
    : 'self-fencing on a real API server: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const state = mkdtempSync(join(tmpdir(), 'veloz-fence-'));
    const creds = mkdtempSync(join(tmpdir(), 'veloz-fence-sa-'));
    const walDir = mkdtempSync(join(tmpdir(), 'veloz-fence-wal-'));
    const clusterEnv = { VELOZ_CLUSTER_NAME: `fence-${process.pid}`, VELOZ_CLUSTER_STATE: state };
    const tools = toolsDir() ?? '';
    let kubeconfig = '';
    let proxy: CuttableProxy;
    let engine: EngineProcess;
    /** Every order the loop placed: when it was sent, and the answer. */
    const placed: Array<{ at: number; status: number; createdAt?: number; error?: string }> = [];
    let flowing = true;
    let flow: Promise<void> | undefined;

    const kubectl = (args: string[], input?: string) =>
      run(join(tools, 'kubectl'), args, { KUBECONFIG: kubeconfig }, input);
    const ok = (r: { code: number; stdout: string; stderr: string }) => {
      expect(r.code, r.stderr + r.stdout).toBe(0);
      return r.stdout;
    };
    const lease = (): Lease =>
      JSON.parse(ok(kubectl(['-n', NS, 'get', 'lease', LEASE, '-o', 'json']))) as Lease;
    const metric = async (name: string) => {
      const text = await (await fetch(`${engine.url}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    const accepted = () => placed.filter((p) => p.status === 201);
    const fencedAnswers = () => placed.filter((p) => p.status === 503 && p.error?.startsWith('fenced:'));

    beforeAll(async () => {
      const up = run(join(ROOT, 'hack', 'cluster.sh'), ['up'], clusterEnv);
      if (up.code !== 0) throw new Error(`hack/cluster.sh up failed:\n${up.stderr}`);
      kubeconfig = run(join(ROOT, 'hack', 'cluster.sh'), ['kubeconfig'], clusterEnv).stdout.trim();
      ok(kubectl(['create', 'namespace', NS]));
      // What the engine's service account may do: create its Lease, read and renew only that one.
      ok(
        kubectl(
          ['apply', '-f', '-'],
          [
            `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: desk, namespace: ${NS}}`,
            `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: desk-engine-lease, namespace: ${NS}}\nrules:\n- {apiGroups: [coordination.k8s.io], resources: [leases], verbs: [create]}\n- {apiGroups: [coordination.k8s.io], resources: [leases], resourceNames: [${LEASE}], verbs: [get, update]}`,
            `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: desk-engine-lease, namespace: ${NS}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: desk-engine-lease}\nsubjects:\n- {kind: ServiceAccount, name: desk, namespace: ${NS}}`,
          ].join('\n---\n'),
        ),
      );
      // The files a pod finds under /var/run/secrets/kubernetes.io/serviceaccount.
      writeFileSync(
        join(creds, 'token'),
        ok(kubectl(['-n', NS, 'create', 'token', 'desk', '--duration=1h'])).trim(),
      );
      writeFileSync(join(creds, 'namespace'), NS);
      const ca = ok(
        kubectl([
          'config',
          'view',
          '--raw',
          '--flatten',
          '--minify',
          '-o',
          'jsonpath={.clusters[0].cluster.certificate-authority-data}',
        ]),
      );
      writeFileSync(join(creds, 'ca.crt'), Buffer.from(ca, 'base64'));
      const server = new URL(
        ok(kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])),
      );
      proxy = new CuttableProxy(server.hostname, Number(server.port || 443));
      await proxy.open();
      engine = await startEngineProcess(
        {
          VELOZ_WAL_DIR: walDir,
          VELOZ_ORDER_RATE_LIMIT: '1000',
          VELOZ_MAX_OPEN_ORDERS: '100000',
          VELOZ_LEASE: 'true',
          VELOZ_LEASE_NAME: LEASE,
          VELOZ_LEASE_HOLDER: 'desk-engine-0_pod-a',
          VELOZ_LEASE_DURATION: String(DURATION_S),
          VELOZ_LEASE_RENEW_PERIOD: '1',
          VELOZ_LEASE_CREDENTIALS_DIR: creds,
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: String(proxy.port),
          VELOZ_LOG_LEVEL: 'info',
        },
        60_000,
      );
      // Orders flow for the whole test: one every 50 ms.
      flow = (async () => {
        while (flowing) {
          const at = Date.now();
          try {
            const res = await fetch(`${engine.url}/api/orders`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                symbol: 'BTCUSDT',
                side: 'BUY',
                type: 'LIMIT',
                quantity: '0.010',
                price: '1000.00',
              }),
            });
            const body = (await res.json()) as { createdAt?: number; error?: string };
            placed.push({ at, status: res.status, createdAt: body.createdAt, error: body.error });
          } catch (err) {
            placed.push({ at, status: 0, error: String(err) });
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
    }, 600_000);

    afterAll(async () => {
      flowing = false;
      await flow;
      await engine?.kill('SIGKILL');
      await proxy?.cut();
      run(join(ROOT, 'hack', 'cluster.sh'), ['down'], clusterEnv);
      for (const d of [state, creds, walDir]) rmSync(d, { recursive: true, force: true });
    });

    it('holds its Lease while orders flow', async () => {
      await until('orders accepted', () => (accepted().length >= 5 ? true : undefined)).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}; last answers: ${JSON.stringify(placed.slice(-3))}`);
        },
      );
      const l = lease();
      expect(l.spec.holderIdentity).toBe('desk-engine-0_pod-a');
      expect(l.spec.leaseDurationSeconds).toBe(DURATION_S);
      expect(await metric('veloz_engine_fenced')).toBe(0);
      expect((await fetch(`${engine.url}/ready`)).status).toBe(200);
    });

    it('cut off from the API server, it stops placing orders within the lease duration', async () => {
      await proxy.cut();
      const cutAt = Date.now();
      const first = await until('a fenced answer', () => fencedAnswers().find((p) => p.at >= cutAt));
      expect(first.error).toMatch(/could not renew its Lease desk-engine-0/);
      // The API server's own record of the last renewal: no order was accepted after it expired.
      const lastRenewal = Date.parse(lease().spec.renewTime!);
      expect(accepted().length).toBeGreaterThan(0);
      const lastAccepted = Math.max(...accepted().map((p) => p.createdAt!));
      expect(lastAccepted).toBeLessThan(lastRenewal + DURATION_S * 1000);
      // And while fenced, nothing is accepted at all.
      const fencedSince = first.at;
      await new Promise((r) => setTimeout(r, 1500));
      expect(accepted().filter((p) => p.at >= fencedSince)).toEqual([]);
      expect(await metric('veloz_engine_fenced')).toBe(1);
      expect(await metric('veloz_lease_renew_failures_total')).toBeGreaterThan(0);
      const ready = await fetch(`${engine.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toContain('could not renew its Lease');
      expect(engine.output()).toMatch(/"level":50[^\n]*fenced: refusing new orders/);
    });

    it('resumes by itself once the API server is back', async () => {
      const before = placed.length;
      await proxy.open();
      await until('orders accepted again', () =>
        placed.slice(before).some((p) => p.status === 201) ? true : undefined,
      );
      expect(await metric('veloz_engine_fenced')).toBe(0);
      expect((await fetch(`${engine.url}/ready`)).status).toBe(200);
      expect(lease().spec.holderIdentity).toBe('desk-engine-0_pod-a');
    });

    it('is fenced while another holder has its Lease, and takes it back once that one lets it expire', async () => {
      // A replacement pod (or a person) takes the Lease and keeps renewing it.
      let renewing = true;
      const take = () => {
        const l = lease();
        const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
        const next = { ...l, spec: { ...l.spec, holderIdentity: 'desk-engine-0_pod-b', renewTime: now } };
        return kubectl(['replace', '-f', '-'], JSON.stringify(next)).code === 0;
      };
      await until('the Lease taken', () => (take() ? true : undefined));
      const takenAt = Date.now();
      const other = (async () => {
        while (renewing) {
          take();
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      const first = await until('a fenced answer', () => fencedAnswers().find((p) => p.at >= takenAt));
      expect(first.error).toMatch(/held by desk-engine-0_pod-b/);
      renewing = false;
      await other;
      // Unrenewed for its duration, the Lease is the engine's again, and so are new orders.
      const stoppedAt = Date.now();
      await until('orders accepted again', () =>
        placed.some((p) => p.at >= stoppedAt && p.status === 201) ? true : undefined,
      );
      expect(lease().spec.holderIdentity).toBe('desk-engine-0_pod-a');
    });
  },
);
