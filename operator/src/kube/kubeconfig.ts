// Where the API server is and how to authenticate. In-cluster service-account credentials and
// kubeconfig files with tokens or client certificates are read here directly; only users that
// need exec plugins or auth providers load @kubernetes/client-node (its generated API costs
// ~90 MB of memory the operator otherwise never needs; docs/adr/0005).
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface Connection {
  server: URL;
  /** TLS options for the agent: CA, client certificate and key, verification. */
  tls: Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Adds the Authorization header (and anything else) to one request's options. */
  authorize(req: https.RequestOptions): Promise<void>;
  /** The namespace the kubeconfig context names, when it names one (kubectl's default namespace). */
  namespace?: string;
}

export class KubeconfigError extends Error {}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface NamedCluster {
  name: string;
  cluster: {
    server: string;
    'certificate-authority'?: string;
    'certificate-authority-data'?: string;
    'insecure-skip-tls-verify'?: boolean;
    'tls-server-name'?: string;
  };
}
interface NamedUser {
  name: string;
  user: {
    token?: string;
    tokenFile?: string;
    'client-certificate'?: string;
    'client-certificate-data'?: string;
    'client-key'?: string;
    'client-key-data'?: string;
    username?: string;
    password?: string;
    exec?: unknown;
    'auth-provider'?: unknown;
  };
}
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  clusters?: NamedCluster[];
  users?: NamedUser[];
}

/** Re-reads a token file at most once a minute: projected service-account tokens rotate. */
function fileToken(path: string): () => string {
  let value = '';
  let at = 0;
  return () => {
    if (Date.now() - at > 60_000) {
      value = readFileSync(path, 'utf8').trim();
      at = Date.now();
    }
    return value;
  };
}

function inCluster(): Connection {
  const host = process.env['KUBERNETES_SERVICE_HOST'];
  const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new KubeconfigError('not running in a cluster (KUBERNETES_SERVICE_HOST is not set)');
  const token = fileToken(join(SA_DIR, 'token'));
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca: readFileSync(join(SA_DIR, 'ca.crt')) },
    authorize: async (req) => {
      req.headers = { ...req.headers, authorization: `Bearer ${token()}` };
    },
  };
}

function dataOrFile(data: string | undefined, file: string | undefined, base: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readFileSync(file.startsWith('/') ? file : join(base, file));
  return undefined;
}

function fromFile(path: string, context?: string): Connection {
  let cfg: KubeconfigFile;
  try {
    cfg = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  } catch (err) {
    throw new KubeconfigError(
      `cannot read kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const ctxName = context ?? cfg['current-context'];
  const ctx = cfg.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx)
    throw new KubeconfigError(
      context
        ? `kubeconfig ${path} has no context "${context}"`
        : `kubeconfig ${path} has no current context`,
    );
  const namespace = ctx.namespace ? { namespace: ctx.namespace } : {};
  const cluster = cfg.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new KubeconfigError(`kubeconfig ${path}: cluster ${ctx.cluster} has no server`);
  const base = path.replace(/\/[^/]*$/, '');
  const ca = dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], base);
  const tls: Connection['tls'] = {
    ...(ca ? { ca } : {}),
    ...(cluster['insecure-skip-tls-verify'] ? { rejectUnauthorized: false } : {}),
    ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
  };
  const server = new URL(cluster.server);
  if (user.exec || user['auth-provider'])
    return { ...viaClientNode(path, server, tls, ctxName), ...namespace };
  const cert = dataOrFile(user['client-certificate-data'], user['client-certificate'], base);
  const key = dataOrFile(user['client-key-data'], user['client-key'], base);
  if (cert && key) Object.assign(tls, { cert, key });
  const token = user.tokenFile ? fileToken(user.tokenFile) : user.token ? () => user.token! : undefined;
  const basic = user.username
    ? Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')
    : undefined;
  return {
    server,
    tls,
    ...namespace,
    authorize: async (req) => {
      if (token) req.headers = { ...req.headers, authorization: `Bearer ${token()}` };
      else if (basic) req.headers = { ...req.headers, authorization: `Basic ${basic}` };
    },
  };
}

/** Exec plugins and auth providers (cloud logins) are client-node's job; loaded only for them. */
function viaClientNode(path: string, server: URL, tls: Connection['tls'], context?: string): Connection {
  let kc: Promise<{ applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }> | undefined;
  return {
    server,
    tls,
    authorize: async (req) => {
      kc ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
        const k = new KubeConfig();
        k.loadFromFile(path);
        if (context) k.setCurrentContext(context);
        return k;
      });
      const opts: https.RequestOptions = { headers: {} };
      await (await kc).applyToHTTPSOptions(opts);
      req.headers = { ...req.headers, ...(opts.headers as Record<string, string>) };
      if (opts.cert) Object.assign(req, { cert: opts.cert, key: opts.key });
    },
  };
}

/**
 * An explicit file; else in cluster; else $KUBECONFIG (first existing entry); else ~/.kube/config.
 * `context` picks a context of the file other than its current one (kubectl's --context).
 */
export function loadConnection(kubeconfig?: string, context?: string): Connection {
  if (kubeconfig) return fromFile(kubeconfig, context);
  if (!context && process.env['KUBERNETES_SERVICE_HOST'] && existsSync(join(SA_DIR, 'token')))
    return inCluster();
  const candidates = [
    ...(process.env['KUBECONFIG'] ?? '').split(':').filter(Boolean),
    join(homedir(), '.kube', 'config'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new KubeconfigError(
      'no Kubernetes credentials: not in a cluster, and no kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config)',
    );
  }
  return fromFile(found, context);
}
