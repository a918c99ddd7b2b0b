// One desk per exchange account (issue 18, ADR 0017). An account is named by a keyed hash of its
// API key (HMAC-SHA256 under a key only the operator holds), never by the key: the hash is what
// the Lease name, labels, logs and conditions carry. One Lease per account, in the operator's
// Lease namespace, records which desk holds it; another desk on the same account is refused
// (condition AccountConflict, no trading pods) unless both name the same share group.
import { createHmac, randomBytes } from 'node:crypto';
import type { RiskBudget } from '@veloz/render/render';
import type { VelozDeployment } from '@veloz/api/generated/types';
import type { IndexedCache, ObjectCache } from './cache.ts';
import type { CachedDeployment } from './cache-transforms.ts';
import { isConflict, type KubeClient } from './kube/client.ts';
import { RESOURCES } from './kube/resources.ts';
import { MANAGED_BY } from './runtime/watches.ts';

export const ACCOUNT_LEASE_PREFIX = 'veloz-account-';
/** The Secret of the operator's HMAC key, beside the account Leases. */
export const ACCOUNT_KEY_SECRET = 'veloz-account-hash-key';
export const HOLDER_UID_ANNOTATION = 'veloz.io/holder-uid';
export const SHARE_ANNOTATION = 'veloz.io/account-share';
/** Index of the live desks (every namespace), to find the other desks of an account. */
export const LIVE_DESKS = 'liveDesks';

/** 128 bits of HMAC-SHA256(key, apiKey) in hex: short enough for a name, unguessable without the key. */
export function accountId(key: Buffer, apiKey: string): string {
  return createHmac('sha256', key).update(apiKey, 'utf8').digest('hex').slice(0, 32);
}

export const accountLeaseName = (account: string) => `${ACCOUNT_LEASE_PREFIX}${account}`;

/** The API key a desk trades with, from the cached Secret; undefined in sim mode or while missing. */
export function deskApiKey(
  cache: ObjectCache,
  d: Pick<VelozDeployment, 'metadata' | 'spec'>,
): string | undefined {
  const ex = d.spec?.execution;
  if (!ex || ex.mode === 'sim_engine' || !ex.credentialsSecretRef) return undefined;
  const s = cache.get(RESOURCES.secret, d.metadata?.namespace ?? '', ex.credentialsSecretRef.name);
  const v = s?.data?.[ex.credentialsSecretRef.apiKeyKey ?? 'apiKey'];
  return v ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** What a desk's claim found; `lease` is `namespace/name`, `holder` the holder desk's. */
export type AccountClaim =
  | { state: 'NotRequired' }
  | { state: 'Unknown'; message: string }
  | {
      state: 'Held';
      account: string;
      lease: string;
      shared?: { group: string; desks: string[] };
      budget?: RiskBudget;
    }
  | { state: 'Conflict'; account: string; lease: string; holder: string };

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: { holderIdentity?: string; acquireTime?: string };
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Compares two non-negative decimal strings exactly. */
export function compareDecimal(a: string, b: string): number {
  const [ai = '0', af = ''] = a.split('.');
  const [bi = '0', bf = ''] = b.split('.');
  const scale = Math.max(af.length, bf.length);
  const x = BigInt(ai + af.padEnd(scale, '0'));
  const y = BigInt(bi + bf.padEnd(scale, '0'));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The smaller limit; absent means none. */
function minLimit(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareDecimal(a, b) <= 0 ? a : b;
}

/**
 * A share group's one budget: the smallest limit any of its desks declares, over all their pairs
 * (each engine then gets an even share, rounded down: render's splitRisk).
 */
export function shareBudget(desks: Array<Pick<VelozDeployment, 'spec'>>): RiskBudget {
  const [first, ...rest] = desks;
  if (!first) throw new Error('a share group has at least one desk');
  let budget: RiskBudget = {
    pairs: first.spec.pairs,
    risk: {
      maxOpenOrders: first.spec.risk.maxOpenOrders,
      maxPosition: first.spec.risk.maxPosition,
      maxOrderNotional: first.spec.risk.maxOrderNotional,
    },
    orderRateLimit: first.spec.execution.orderRateLimit,
  };
  for (const d of rest) {
    const maxPosition = minLimit(budget.risk.maxPosition, d.spec.risk.maxPosition);
    const maxOrderNotional = minLimit(budget.risk.maxOrderNotional, d.spec.risk.maxOrderNotional);
    budget = {
      pairs: budget.pairs + d.spec.pairs,
      risk: {
        maxOpenOrders: Math.min(budget.risk.maxOpenOrders, d.spec.risk.maxOpenOrders),
        ...(maxPosition !== undefined ? { maxPosition } : {}),
        ...(maxOrderNotional !== undefined ? { maxOrderNotional } : {}),
      },
      orderRateLimit: Math.min(budget.orderRateLimit, d.spec.execution.orderRateLimit),
    };
  }
  return budget;
}

export interface AccountLeasesDeps {
  client: Pick<KubeClient, 'find' | 'create' | 'update' | 'delete'>;
  cache: ObjectCache & IndexedCache;
  /** Namespace of the account Leases (the operator's Lease namespace). */
  namespace: string;
  /** The HMAC key; only the operator holds it. */
  key: Buffer;
  now: () => Date;
}

const deskKey = (d: Pick<VelozDeployment, 'metadata'>) =>
  `${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`;

export class AccountLeases {
  private readonly d: AccountLeasesDeps;

  constructor(deps: AccountLeasesDeps) {
    this.d = deps;
  }

  /** The account a desk trades on, if it trades on one and its key can be read. */
  accountOf(desk: Pick<VelozDeployment, 'metadata' | 'spec'>): string | undefined {
    const apiKey = deskApiKey(this.d.cache, desk);
    return apiKey === undefined ? undefined : accountId(this.d.key, apiKey);
  }

  /**
   * Claims the desk's account, or says who holds it. A holder that no longer exists, is being
   * deleted, or trades on another account now, loses the Lease to the next desk that asks.
   */
  async claim(desk: VelozDeployment, credentialsReady: boolean): Promise<AccountClaim> {
    if (desk.spec.execution.mode === 'sim_engine') return { state: 'NotRequired' };
    const account = credentialsReady ? this.accountOf(desk) : undefined;
    if (account === undefined)
      return { state: 'Unknown', message: 'the exchange credentials are not readable yet' };
    const lease = accountLeaseName(account);
    const uid = desk.metadata?.uid ?? '';
    const group = desk.spec.execution.accountShare;
    for (let attempt = 0; attempt < 3; attempt++) {
      const live = await this.d.client.find<Lease>(RESOURCES.lease, this.d.namespace, lease);
      if (!live) {
        try {
          await this.d.client.create(RESOURCES.lease, this.d.namespace, this.lease(lease, account, desk));
        } catch (err) {
          if (isConflict(err)) continue; // another pass created it first: read it again
          throw err;
        }
        return this.held(account, lease, desk);
      }
      const holderUid = live.metadata.annotations?.[HOLDER_UID_ANNOTATION];
      if (holderUid === uid) {
        // Our own Lease: keep its share group as the spec says (a new member reads it).
        if (live.metadata.annotations?.[SHARE_ANNOTATION] !== group) {
          if (!(await this.replace(live, account, desk))) continue;
        }
        return this.held(account, lease, desk);
      }
      const holder = this.validHolder(live, account);
      if (!holder) {
        // Taken over with the Lease's resourceVersion: of two desks racing for it, one wins.
        if (!(await this.replace(live, account, desk))) continue;
        return this.held(account, lease, desk);
      }
      if (group !== undefined && holder.spec.execution.accountShare === group)
        return this.held(account, lease, desk);
      return { state: 'Conflict', account, lease: `${this.d.namespace}/${lease}`, holder: deskKey(holder) };
    }
    throw new Error(`Lease ${this.d.namespace}/${lease} changed under every attempt to claim it`);
  }

  /** Writes the Lease as `desk` holds it, if nobody changed it since read; false when someone did. */
  private async replace(live: Lease, account: string, desk: VelozDeployment): Promise<boolean> {
    const next = this.lease(live.metadata.name, account, desk);
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    try {
      await this.d.client.update(RESOURCES.lease, this.d.namespace, next);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Gives the account up when its holder desk goes (the next desk on it may then start). */
  async release(desk: VelozDeployment): Promise<void> {
    const account = this.accountOf(desk);
    if (account === undefined) return;
    const lease = accountLeaseName(account);
    const live = await this.d.client.find<Lease>(RESOURCES.lease, this.d.namespace, lease);
    if (live?.metadata.annotations?.[HOLDER_UID_ANNOTATION] !== desk.metadata?.uid) return;
    try {
      // Only the Lease as read: another desk may have taken it over meanwhile (ours is deleting).
      await this.d.client.delete(RESOURCES.lease, this.d.namespace, lease, 'Background', {
        resourceVersion: live?.metadata.resourceVersion,
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** The desk the Lease names, if it still exists under that uid, lives, and trades on this account. */
  private validHolder(l: Lease, account: string): CachedDeployment | undefined {
    const [ns, name] = (l.spec.holderIdentity ?? '').split('/');
    if (!ns || !name) return undefined;
    const d = this.d.cache.get(RESOURCES.velozDeployment, ns, name);
    if (!d || d.metadata.uid !== l.metadata.annotations?.[HOLDER_UID_ANNOTATION]) return undefined;
    if (d.metadata.deletionTimestamp) return undefined;
    return this.accountOf(d) === account ? d : undefined;
  }

  /** Held, alone or with the desks of its share group (and their one budget). */
  private held(account: string, name: string, desk: VelozDeployment): AccountClaim {
    const group = desk.spec.execution.accountShare;
    const lease = `${this.d.namespace}/${name}`;
    if (group === undefined) return { state: 'Held', account, lease };
    const members = this.d.cache
      .byIndex(RESOURCES.velozDeployment, LIVE_DESKS, 'live')
      .filter(
        (d) =>
          !d.metadata.deletionTimestamp &&
          d.spec.execution.accountShare === group &&
          d.metadata.uid !== desk.metadata?.uid &&
          this.accountOf(d) === account,
      );
    const all = [desk, ...members].sort((a, b) => deskKey(a).localeCompare(deskKey(b)));
    return {
      state: 'Held',
      account,
      lease,
      shared: { group, desks: all.map(deskKey) },
      budget: shareBudget(all),
    };
  }

  private lease(name: string, account: string, desk: VelozDeployment): Lease {
    const group = desk.spec.execution.accountShare;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.d.namespace,
        labels: { 'app.kubernetes.io/managed-by': MANAGED_BY, 'veloz.io/account': account },
        annotations: {
          [HOLDER_UID_ANNOTATION]: desk.metadata?.uid ?? '',
          ...(group !== undefined ? { [SHARE_ANNOTATION]: group } : {}),
        },
      },
      spec: { holderIdentity: deskKey(desk), acquireTime: microTime(this.d.now()) },
    };
  }
}

/** The operator's HMAC key: read from its Secret, created once (32 random bytes) when absent. */
export async function loadAccountKey(
  client: Pick<KubeClient, 'find' | 'create'>,
  namespace: string,
): Promise<Buffer> {
  type Secret = { data?: Record<string, string> };
  const read = (s: Secret | undefined) =>
    s?.data?.['key'] ? Buffer.from(s.data['key'], 'base64') : undefined;
  const existing = read(await client.find<Secret>(RESOURCES.secret, namespace, ACCOUNT_KEY_SECRET));
  if (existing) return existing;
  try {
    await client.create(RESOURCES.secret, namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: ACCOUNT_KEY_SECRET,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': MANAGED_BY },
      },
      type: 'Opaque',
      data: { key: randomBytes(32).toString('base64') },
    });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  const created = read(await client.find<Secret>(RESOURCES.secret, namespace, ACCOUNT_KEY_SECRET));
  if (!created) throw new Error(`Secret ${namespace}/${ACCOUNT_KEY_SECRET} has no key "key"`);
  return created;
}
