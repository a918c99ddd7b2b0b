// VelozDeployment: API key (generated once) -> credentials check -> render -> server-side apply
// of what changed -> prune -> status, and the finalizer once something needs it. Level-triggered:
// every pass reads the world from the caches; steady state makes no writes.
import { names } from '@veloz/api/names';
import { createHash, randomBytes } from 'node:crypto';
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import { parseQuantity } from '@veloz/api/crd/quantity';
import { render, type KubernetesObject as Desired, type PeerSelector } from '@veloz/render/render';
import type { LastBackup, VelozDeployment } from '@veloz/api/generated/types';
import type { Logger } from 'pino';
import { podReady, type ObjectCache } from '../cache.ts';
import {
  isCached,
  type CachedDeployment,
  type CachedKind,
  type CachedPod,
  type CachedShapes,
  type CachedStatefulSet,
  type CachedStrategy,
} from '../cache-transforms.ts';
import type { KubeClient } from '../kube/client.ts';
import {
  RESOURCES,
  resourceFor,
  splitKey,
  type KubernetesObject,
  type ResourceRef,
} from '../kube/resources.ts';
import { TerminalError, type Reconciler, type ReconcileResult } from '../runtime/controller.ts';
import { MANAGED_BY } from '../runtime/watches.ts';
import { conditionOf } from '../status/conditions.ts';
import { deletingStatus } from '../status/deletion-status.ts';
import { summarizeDrill, type RestoreTest } from '../status/restore-test.ts';
import { CALENDAR_LABEL } from '@veloz/api/crd/maintenance';
import { parseCalendar, type TradingCalendar } from '@veloz/api/trading-calendar';
import {
  computeDeploymentStatus,
  type ObservedDeployment,
  type ObservedStatefulSet,
} from '../status/deployment-status.ts';
import type { ExchangeObservation, WalObservation } from '../wal-observer.ts';
import { referencedSecrets } from './deployment-watches.ts';
import { deskTokens } from '../engine-tokens.ts';
import { tlsSecretProblem } from './tls-secret.ts';
import { EventBatch, recordTransitions, type EventRecorder } from './events.ts';
import {
  ROLLOUT_NOW_ANNOTATION,
  RELEASED_TEMPLATE_LABEL,
  decideRollout,
  engineTemplateHash,
  holdEngineTemplate,
  releaseEngineTemplate,
  type RolloutDecision,
} from './engine-rollout.ts';
import { annotated } from '../annotations.ts';
import type { FlatTracker } from './flat-tracker.ts';
import type { AccountClaim, AccountLeases } from '../accounts.ts';
import type { NodeAccess } from '../node-access.ts';
import type { EnginePlacement, NodesObservation } from '../status/node-status.ts';
import { pairLostEvents } from './node-events.ts';
import { WrittenStatus } from './written-status.ts';
import { addDeskFinalizer, DEPLOYMENT_FINALIZER } from './desk-finalizer.ts';
import { StatusSettle } from './status-settle.ts';

export { DEPLOYMENT_FINALIZER } from './desk-finalizer.ts';

/** Kinds render() produces, which the operator prunes when they are no longer desired. */
export const OWNED: Array<ResourceRef<CachedKind>> = [
  RESOURCES.secret,
  RESOURCES.configMap,
  RESOURCES.service,
  RESOURCES.serviceAccount,
  RESOURCES.role,
  RESOURCES.roleBinding,
  RESOURCES.statefulSet,
  RESOURCES.pdb,
  RESOURCES.networkPolicy,
  RESOURCES.cronJob,
  RESOURCES.serviceMonitor,
  RESOURCES.prometheusRule,
  RESOURCES.certificate,
];

export type DeploymentWriter = Pick<KubeClient, 'apply' | 'applyStatus' | 'mergePatch' | 'delete'>;

export interface MonitoringDiscovery {
  served(): Promise<boolean>;
}

/** What the engines report of their WALs (wal-observer.ts), by pair index. */
export interface WalReports {
  track(namespace: string, deployment: string, enginePods: ReadonlyMap<number, string>): void;
  get(namespace: string, deployment: string): ReadonlyMap<number, WalObservation>;
}

export interface DeploymentReconcilerDeps {
  cache: ObjectCache;
  writer: DeploymentWriter;
  events: EventRecorder;
  monitoring: MonitoringDiscovery;
  /** Whether cert-manager.io/v1 is served (spec.gateway.tls.issuerRef); absent: never. */
  certManager?: MonitoringDiscovery;
  log: Logger;
  defaultImage: string;
  /** Base of the alerts' runbook links, unless the CR sets its own. */
  runbookBaseUrl?: string;
  now: () => Date;
  /** The operator's pods and the scraper, admitted to the engines (NetworkPolicy X-engine). */
  operatorPeer?: PeerSelector;
  scraperPeer?: PeerSelector;
  /** Source of new API keys and engine tokens (32 random bytes, hex). */
  newApiKey?: () => string;
  wal?: WalReports;
  /** Rollout policy WhenFlat: whether the engines are flat (no open orders, no position change). */
  flat?: FlatTracker;
  /** One desk per exchange account (accounts.ts); absent, accounts are not checked. */
  accounts?: Pick<AccountLeases, 'claim' | 'release'>;
  /** Whether the Node informer runs (node-access.ts); absent, nodes are not observed. */
  nodes?: NodeAccess;
  /** How long a status reporting only a rollout's progress may wait (status-settle.ts); absent: 0. */
  statusSettleMs?: number;
}

interface Applied {
  hash: string;
  fingerprint: string;
}

interface TlsCheck {
  ok: boolean;
  message: string;
}

interface Credentials {
  ready: boolean;
  reason: string;
  message: string;
}

/** A child applied from the last render: to see, next pass, whether it changed since. */
interface AppliedChild {
  r: ResourceRef<CachedKind>;
  name: string;
  key: string;
}

function fingerprint(o: KubernetesObject): string {
  // Objects with a generation change it only on spec edits; status churn must not cause applies.
  const m = o.metadata ?? {};
  if (m.generation !== undefined) return `g${m.generation}`;
  // Claims have no generation, and binding changes them (status, volumeName, annotations): what
  // can be edited of them by hand and matters is their labels and size.
  if (o.kind === 'PersistentVolumeClaim') {
    const spec = o['spec'];
    const resources =
      typeof spec === 'object' && spec !== null && 'resources' in spec ? spec.resources : null;
    return `c${hashOf([m.labels ?? null, resources ?? null]).slice(0, 16)}`;
  }
  return `rv${m.resourceVersion ?? ''}`;
}

function hashOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

/**
 * What the reconciler remembers of what it rendered and applied: 128 bits of the hash, 22
 * characters, made as a string of its own (a slice of the hex would keep all 64 alive). Kept per
 * child of every desk, so at 2,000 desks about 26,000 of them.
 */
function digestOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest().toString('base64url', 0, 16);
}

function decode(data: Record<string, string> | undefined, key: string): string | undefined {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** The cached kind of a rendered object (render() makes only kinds the operator watches). */
function resourceOf(o: Desired): ResourceRef<CachedKind> {
  const r = resourceFor(o.apiVersion, o.kind);
  if (!isCached(r)) throw new Error(`render() made ${o.kind}, which the operator does not watch`);
  return r;
}

/** A workload that runs nothing: a StatefulSet of no replicas, a suspended CronJob. */
function stopped(o: Desired): Desired {
  const spec = (o['spec'] ?? {}) as Record<string, unknown>;
  return { ...o, spec: o.kind === 'CronJob' ? { ...spec, suspend: true } : { ...spec, replicas: 0 } };
}

/** A StatefulSet just created: its controller has not looked at it yet. */
const NOT_OBSERVED_YET: ObservedStatefulSet = {
  generation: 1,
  observedGeneration: 0,
  replicas: 0,
  readyReplicas: 0,
  updatedReplicas: 0,
};

/** Workloads: what starts trading pods, held back in a live mode until the credentials are there. */
const isWorkload = (o: Desired) => o.kind === 'StatefulSet' || o.kind === 'CronJob';

export class DeploymentReconciler implements Reconciler {
  readonly kind = 'VelozDeployment';
  private readonly d: DeploymentReconcilerDeps;
  private readonly applied = new Map<string, Applied>();
  /**
   * Per deployment: the hash of render()'s input, the children applied from it, and the hash of
   * the engine template it rendered (engine-rollout.ts).
   */
  private readonly rendered = new Map<
    string,
    { input: string; inputBase: string; children: AppliedChild[]; engineHash?: string }
  >();
  private readonly settle: StatusSettle;
  /** Per deployment: whether a change that restarts the engines waits (spec.maintenance). */
  private readonly rollouts = new Map<string, RolloutDecision>();
  /** Per deployment: the status last written, which the cache may not show yet. */
  private readonly written = new WrittenStatus();

  constructor(deps: DeploymentReconcilerDeps) {
    this.d = deps;
    this.settle = new StatusSettle(deps.statusSettleMs ?? 0, () => deps.now().getTime());
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ns = namespace ?? '';
    const raw = this.d.cache.get(RESOURCES.velozDeployment, ns, name);
    if (!raw) {
      this.forget(ns, name);
      this.d.wal?.track(ns, name, new Map());
      return;
    }
    // The API server defaults what it stores; objects written under an older schema may lack
    // newer defaults, so they are applied here too (as render() does).
    const cr = applyDefaults(VELOZ_DEPLOYMENT.schema, raw);
    if (cr.metadata.deletionTimestamp) return this.finalize(cr);
    const credentials = this.credentials(cr);
    const certManagerServed = (await this.d.certManager?.served()) ?? false;
    const tls = this.tls(cr, certManagerServed);
    const account: AccountClaim = this.d.accounts
      ? await this.d.accounts.claim(cr, credentials.ready)
      : { state: 'NotRequired' };
    const finalizer = this.addFinalizer(raw, account);
    // Events are records, not steps: they are written alongside the rest of the pass.
    const events = new EventBatch(this.d.events, this.d.log);
    let applyError: string | undefined;
    let inProgress = false;
    let written: { ready: boolean; heldMs: number };
    try {
      const monitoringServed = await this.d.monitoring.served();
      if (!cr.spec.paused) {
        try {
          inProgress = await this.applyDesired(
            cr,
            credentials.ready,
            tls?.ok ?? true,
            monitoringServed,
            certManagerServed,
            events,
            account,
          );
        } catch (err) {
          applyError = err instanceof Error ? err.message : String(err);
          await this.writeStatus(cr, credentials, tls, monitoringServed, applyError, events, account);
          throw err;
        }
      }
      written = await this.writeStatus(cr, credentials, tls, monitoringServed, applyError, events, account);
    } finally {
      // Settled before the pass ends, so a pass never leaves a write running behind it.
      await Promise.all([events.settled(), finalizer]);
    }
    const finalizerError = await finalizer;
    if (finalizerError) throw finalizerError;
    if (inProgress) return { requeueAfterMs: Math.min(1_000, written.heldMs || 1_000) };
    // A status held back while the rollout goes on is written when the wait ends, if no pass did.
    if (written.heldMs > 0) return { requeueAfterMs: written.heldMs };
    // The holder going away wakes no other desk: a refused desk looks again soon.
    if (account.state === 'Conflict') return { requeueAfterMs: 5_000 };
    // Backup staleness is a matter of time, not of events; so is a maintenance window opening.
    const base = written.ready ? 60_000 : 15_000;
    const recheck = this.rollouts.get(`${ns}/${name}`)?.recheckAt;
    if (recheck === undefined) return { requeueAfterMs: base };
    return {
      requeueAfterMs: Math.min(base, Math.max(1_000, recheck.getTime() - this.d.now().getTime())),
    };
  }

  /** What the reconciler remembers of a deployment that is gone. */
  private forget(ns: string, name: string): void {
    for (const k of this.applied.keys()) if (k.startsWith(`${ns}/${name}|`)) this.applied.delete(k);
    this.rendered.delete(`${ns}/${name}`);
    this.rollouts.delete(`${ns}/${name}`);
    this.written.forget(ns, name);
    this.settle.settled(`${ns}/${name}`);
    this.d.flat?.forget(ns, name);
  }

  /**
   * Adds the finalizer once the desk holds its account's Lease, which deletion gives up (the
   * strategy reconciler adds it when a strategy refers to the desk, before it pushes anything to
   * an engine). Alongside the pass rather than before it: owner references, not the finalizer,
   * take the children. Resolves to the failure, if any.
   */
  private addFinalizer(cr: CachedDeployment, account: AccountClaim): Promise<Error | undefined> {
    if (account.state !== 'Held') return Promise.resolve(undefined);
    return addDeskFinalizer(this.d.writer, cr).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  private credentials(cr: VelozDeployment): Credentials {
    const ex = cr.spec.execution;
    if (ex.mode === 'sim_engine') return { ready: true, reason: 'NotRequired', message: '' };
    const ref = ex.credentialsSecretRef;
    if (!ref)
      return {
        ready: false,
        reason: 'SecretNotReferenced',
        message: 'execution.credentialsSecretRef is required in live modes',
      };
    const s = this.d.cache.get(RESOURCES.secret, cr.metadata?.namespace ?? '', ref.name);
    if (!s) return { ready: false, reason: 'SecretNotFound', message: `Secret ${ref.name} not found` };
    const missing = [ref.apiKeyKey, ref.apiSecretKey].filter((k) => !decode(s.data, k));
    if (missing.length) {
      return {
        ready: false,
        reason: 'KeyMissing',
        message: `Secret ${ref.name} has no (or an empty) key ${missing.join(', ')}`,
      };
    }
    return { ready: true, reason: 'SecretFound', message: `Secret ${ref.name} has both keys` };
  }

  /**
   * Whether the gateways' TLS Secret holds a certificate and its key, as the gateway will load
   * them; undefined without spec.gateway.tls. A bad Secret holds new gateways back (they would
   * wait for the volume, or refuse to start) and says why on the condition Degraded.
   */
  private tls(cr: VelozDeployment, certManagerServed: boolean): TlsCheck | undefined {
    const name = cr.spec.gateway.tls?.secretName;
    if (!name) return undefined;
    const issuer = cr.spec.gateway.tls?.issuerRef;
    const s = this.d.cache.get(RESOURCES.secret, cr.metadata?.namespace ?? '', name);
    if (!s && issuer && !certManagerServed)
      return {
        ok: false,
        message: `TLS Secret ${name} (spec.gateway.tls.secretName) not found, and spec.gateway.tls.issuerRef needs cert-manager.io/v1, which this cluster does not serve: install cert-manager or write the Secret yourself`,
      };
    if (!s && issuer)
      return {
        ok: false,
        message: `TLS Secret ${name} (spec.gateway.tls.secretName) not found yet: cert-manager has not issued Certificate ${names(cr.metadata?.name ?? '').gateway} (${issuer.kind} ${issuer.name})`,
      };
    if (!s) return { ok: false, message: `TLS Secret ${name} (spec.gateway.tls.secretName) not found` };
    const problem = tlsSecretProblem(decode(s.data, 'tls.crt'), decode(s.data, 'tls.key'));
    return problem
      ? { ok: false, message: `TLS Secret ${name} (spec.gateway.tls.secretName): ${problem}` }
      : { ok: true, message: `TLS Secret ${name} holds a certificate and its key` };
  }

  /** Hash of every referenced Secret's data, so a changed Secret rolls the pods. */
  private secretsHash(cr: VelozDeployment): string {
    const ns = cr.metadata?.namespace ?? '';
    const parts = referencedSecrets(cr.spec).map((n) => [
      n,
      this.d.cache.get(RESOURCES.secret, ns, n)?.data ?? null,
    ]);
    return hashOf(parts).slice(0, 16);
  }

  private apiKey(cr: VelozDeployment): string | undefined {
    if (cr.spec.gateway.apiKeySecretRef) return undefined;
    const existing = this.d.cache.get(
      RESOURCES.secret,
      cr.metadata?.namespace ?? '',
      names(cr.metadata?.name ?? '').apiKeySecret,
    );
    // Generated once and kept: a key in use is never rotated behind the user's back.
    return (
      decode(existing?.data, 'apiKey') ?? (this.d.newApiKey ?? (() => randomBytes(32).toString('hex')))()
    );
  }

  /** Applies and prunes; returns true when a step is still under way and a quick requeue helps. */
  private async applyDesired(
    cr: VelozDeployment,
    credentialsReady: boolean,
    tlsReady: boolean,
    monitoringServed: boolean,
    certManagerServed: boolean,
    events: EventBatch,
    account: AccountClaim,
  ): Promise<boolean> {
    const ns = cr.metadata?.namespace ?? '';
    const x = cr.metadata?.name ?? '';
    const conflict = account.state === 'Conflict';
    const ctx = {
      defaultImage: this.d.defaultImage,
      runbookBaseUrl: this.d.runbookBaseUrl,
      apiKey: this.apiKey(cr),
      engineTokens: deskTokens(
        this.d.cache,
        ns,
        x,
        this.d.newApiKey ?? (() => randomBytes(32).toString('hex')),
      ),
      monitoringApiServed: monitoringServed,
      certManagerApiServed: certManagerServed,
      ...(this.d.operatorPeer ? { operatorPods: this.d.operatorPeer } : {}),
      ...(this.d.scraperPeer ? { scraperPods: this.d.scraperPeer } : {}),
      secretsHash: this.secretsHash(cr),
      // A share group's one budget; else render splits the desk's own limits over its pairs.
      ...(account.state === 'Held' && account.budget ? { riskBudget: account.budget } : {}),
    };
    const crKey = `${ns}/${x}`;
    const forced = annotated(cr, ROLLOUT_NOW_ANNOTATION);
    const now = this.d.now();
    const engineLive = this.d.cache.get(RESOURCES.statefulSet, ns, names(x).engine);
    const released = engineLive?.metadata.labels?.[RELEASED_TEMPLATE_LABEL];
    const inputBase = digestOf([cr.metadata?.uid, x, ns, cr.spec, ctx, credentialsReady, tlsReady, conflict]);
    const last = this.rendered.get(crKey);
    // WhenFlat asks the engines, so only while a change may wait: the spec or its inputs changed
    // since the last render, or what it rendered is not released yet.
    const mayWait = !last || last.inputBase !== inputBase || (!!released && last.engineHash !== released);
    const flatSince =
      cr.spec.maintenance?.policy === 'WhenFlat' && engineLive && this.d.flat && mayWait
        ? await this.d.flat.flatSince(
            ns,
            x,
            Array.from({ length: cr.spec.pairs }, (_, i) => names(x).enginePod(i)),
            now,
          )
        : undefined;
    const calendar = this.tradingCalendar(cr, ns);
    const gate = (pending: boolean) =>
      decideRollout({
        maintenance: cr.spec.maintenance,
        pending,
        forced,
        now,
        ...(flatSince ? { flatSince } : {}),
        ...(calendar ? { calendar } : {}),
      });
    // Whether a waiting change would be released now is part of the input: a window opening
    // renders again, though nothing else changed.
    const input = digestOf([inputBase, gate(true).release]);
    // Most passes are woken by a child's status; when neither the input of render() nor any child
    // changed, there is nothing to render, apply or prune.
    if (last?.input === input && last.children.every((c) => this.unchanged(c, ns))) {
      this.rollouts.set(crKey, gate(!!released && !!last.engineHash && released !== last.engineHash));
      return false;
    }
    let desired: Desired[];
    try {
      desired = render(cr, ctx);
    } catch (err) {
      throw new TerminalError(
        `cannot render the desired state: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    // Without credentials no trading pods start in a live mode; running ones are left alone.
    // Nor do gateways start without a usable TLS Secret; running ones keep their certificate.
    const held = (o: Desired) =>
      (!credentialsReady && isWorkload(o)) ||
      (!tlsReady && o.kind === 'StatefulSet' && o.metadata.name === names(x).gateway);
    let engineHash: string | undefined;
    const toApply = desired
      .filter((o) => !held(o) || this.live(o))
      .map((o) => {
        // On an account another desk holds, no engine may trade: the workloads are scaled to
        // zero (their WAL claims stay, whenScaled Retain) and the backup CronJob suspended (ADR 0017).
        if (conflict && isWorkload(o)) return stopped(o);
        if (o.kind !== 'StatefulSet' || o.metadata.name !== names(x).engine) return o;
        engineHash = engineTemplateHash(o);
        const pending = !!engineLive && !!released && released !== engineHash;
        const decision = gate(pending);
        this.rollouts.set(crKey, decision);
        this.rolloutEvents(cr, pending, decision, events);
        return decision.release || !engineLive || !released
          ? releaseEngineTemplate(o, engineHash)
          : holdEngineTemplate(o, engineLive, released);
      });
    const outcome = await this.applyAll(cr, toApply);
    // Forcing is a one-off: once a render has released (or found nothing to hold), it is used.
    if (forced)
      await this.d.writer.mergePatch(RESOURCES.velozDeployment, ns, x, {
        metadata: { annotations: { [ROLLOUT_NOW_ANNOTATION]: null } },
      });
    this.rendered.set(crKey, {
      engineHash,
      input,
      inputBase,
      children: toApply.map((o) => ({
        r: resourceOf(o),
        name: o.metadata.name,
        key: `${ns}/${x}|${o.kind}/${o.metadata.name}`,
      })),
    });
    // One Event per pass, not one per object: the history stays readable in kubectl describe.
    if (outcome.created.length)
      events.record(cr, 'Normal', 'Created', `created ${outcome.created.join(', ')}`);
    if (outcome.created.includes(`StatefulSet ${names(x).engine}`)) this.unverifiedRestore(cr, events);
    if (outcome.updated.length)
      events.record(cr, 'Normal', 'Updated', `updated ${outcome.updated.join(', ')}`);
    if (outcome.requeueSoon) return true;
    await this.prune(cr, desired, credentialsReady);
    return false;
  }

  /**
   * The warning for a restore from a backup whose last drill failed (ADR 0024): an Event when the
   * engines that will restore are created. Admission cannot give it: a CEL rule sees only the
   * object admitted, and the source's drill result is in another object's status.
   */
  private unverifiedRestore(cr: VelozDeployment, events: EventBatch): void {
    const from = cr.spec.restore?.fromBackup;
    if (!from) return;
    const ns = cr.metadata?.namespace ?? '';
    const source = from.deployment ?? cr.metadata?.name ?? '';
    const verified = conditionOf(
      this.d.cache.get(RESOURCES.velozDeployment, ns, source)?.status?.conditions,
      'BackupVerified',
    );
    if (verified?.status !== 'False') return;
    events.record(
      cr,
      'Warning',
      'RestoreFromUnverifiedBackup',
      `the engines restore from the backups of VelozDeployment ${ns}/${source}, whose last restore drill failed (${verified.reason}: ${verified.message}); check them before trading (docs/runbooks/alerts.md#velozrestoredrillfailed)`,
    );
  }

  /** An Event when a change starts waiting, and when a waiting change is released. */
  private rolloutEvents(
    cr: VelozDeployment,
    pending: boolean,
    decision: RolloutDecision,
    events: EventBatch,
  ): void {
    if (!pending) return;
    const before = conditionOf(cr.status?.conditions, 'RolloutPending');
    const c = decision.condition;
    if (!decision.release && (before?.status !== 'True' || before.reason !== c.reason))
      events.record(cr, 'Normal', 'RolloutPending', c.message);
    if (decision.release)
      events.record(
        cr,
        'Normal',
        c.message.includes(ROLLOUT_NOW_ANNOTATION) ? 'RolloutForced' : 'RolloutReleased',
        c.message,
      );
  }

  /**
   * Two waves of parallel applies: what the workloads use (Secret, ConfigMap, ServiceAccount,
   * Services, ...) first, so their pods never start before it exists; then the workloads.
   * allSettled: every apply of a wave has finished before its first failure is reported.
   */
  private async applyAll(
    cr: VelozDeployment,
    toApply: Desired[],
  ): Promise<{ requeueSoon: boolean; created: string[]; updated: string[] }> {
    const out = { requeueSoon: false, created: [] as string[], updated: [] as string[] };
    const applyOne = async (obj: Desired): Promise<void> => {
      const what = await this.applyChild(cr, obj);
      if (what === 'resizing') out.requeueSoon = true;
      else if (what === 'created') out.created.push(`${obj.kind} ${obj.metadata.name}`);
      else if (what === 'updated') out.updated.push(`${obj.kind} ${obj.metadata.name}`);
    };
    for (const wave of [toApply.filter((o) => !isWorkload(o)), toApply.filter(isWorkload)]) {
      const failed = (await Promise.allSettled(wave.map(applyOne))).find((p) => p.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return out;
  }

  /** Applies one child unless it is as last applied; says what happened. */
  private async applyChild(
    cr: VelozDeployment,
    obj: Desired,
  ): Promise<'resizing' | 'created' | 'updated' | 'unchanged'> {
    const ns = cr.metadata?.namespace ?? '';
    const key = `${ns}/${cr.metadata?.name ?? ''}|${obj.kind}/${obj.metadata.name}`;
    if (obj.kind === 'StatefulSet') {
      const sts = this.d.cache.get(RESOURCES.statefulSet, ns, obj.metadata.name);
      if (sts && (await this.resizeClaims(cr, sts, obj))) return 'resizing';
    }
    const live = this.d.cache.get(resourceOf(obj), ns, obj.metadata.name);
    const hash = digestOf(obj);
    const prev = this.applied.get(key);
    if (live && prev && prev.hash === hash && prev.fingerprint === fingerprint(live)) return 'unchanged';
    // render() types owner references loosely; the object is a plain manifest either way.
    // Only the answer's fingerprint is read: metadata suffices, except for a claim, whose
    // fingerprint is its size (a metadata-only answer would differ from the cached claim on every
    // pass and re-apply it forever: found by the steady-state e2e test).
    const result = await this.d.writer.apply<KubernetesObject>(obj as unknown as KubernetesObject, {
      metadataOnly: obj.kind !== 'PersistentVolumeClaim',
    });
    this.applied.set(key, { hash, fingerprint: fingerprint(result) });
    if (!live) return 'created';
    return prev && prev.hash !== hash ? 'updated' : 'unchanged';
  }

  /** Deletes the children of `cr` that render() no longer makes. */
  private async prune(cr: VelozDeployment, desired: Desired[], credentialsReady: boolean): Promise<void> {
    const ns = cr.metadata?.namespace ?? '';
    const x = cr.metadata?.name ?? '';
    const want = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const r of OWNED) {
      if (!credentialsReady && (r === RESOURCES.statefulSet || r === RESOURCES.cronJob)) continue;
      for (const o of this.owned(cr, r)) {
        const name = o.metadata.name ?? '';
        if (want.has(`${r.kind}/${name}`)) continue;
        await this.d.writer.delete(r, ns, name);
        this.applied.delete(`${ns}/${x}|${r.kind}/${name}`);
        await this.d.events.normal(cr, 'Pruned', `deleted ${r.kind} ${name}: no longer desired`);
      }
    }
  }

  /**
   * A StatefulSet's volumeClaimTemplates cannot change. When the WAL size grows, the existing
   * claims are expanded and the StatefulSet is deleted with its pods orphaned (they keep running
   * and trading) so the next pass recreates it with the new template. Returns true meanwhile.
   */
  private async resizeClaims(
    cr: VelozDeployment,
    live: CachedStatefulSet,
    desired: Desired,
  ): Promise<boolean> {
    // render()'s objects are plain manifests; this is the one field of its StatefulSet read here.
    type Sts = {
      spec?: { volumeClaimTemplates?: Array<{ spec?: { resources?: { requests?: { storage?: string } } } }> };
    };
    const size = (o: Sts) => o.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage;
    const want = size(desired as Sts);
    const have = size(live);
    if (!want || !have || want === have) return false;
    if (parseQuantity(want) < parseQuantity(have)) {
      throw new TerminalError(`the WAL volume cannot shrink from ${have} to ${want}`);
    }
    const ns = cr.metadata?.namespace ?? '';
    const sts = desired.metadata.name;
    const claim = live.spec?.volumeClaimTemplates?.[0]?.metadata?.name ?? 'wal';
    const claims = this.d.cache
      .listByInstance(RESOURCES.pvc, ns, cr.metadata?.name ?? '')
      .filter((p) => !!p.metadata.name?.startsWith(`${claim}-${sts}-`));
    for (const pvc of claims) {
      const cur = pvc.spec?.resources?.requests?.storage;
      if (cur && parseQuantity(cur) >= parseQuantity(want)) continue;
      try {
        await this.d.writer.mergePatch(RESOURCES.pvc, ns, pvc.metadata.name ?? '', {
          spec: { resources: { requests: { storage: want } } },
        });
      } catch (err) {
        throw new TerminalError(
          `cannot expand ${pvc.metadata.name} to ${want}: ${err instanceof Error ? err.message : String(err)} ` +
            '(the StorageClass must allow volume expansion)',
        );
      }
    }
    await this.d.writer.delete(RESOURCES.statefulSet, ns, sts, 'Orphan');
    this.applied.delete(`${ns}/${cr.metadata?.name}|StatefulSet/${sts}`);
    await this.d.events.normal(
      cr,
      'WALResized',
      `WAL claims of ${sts} expanded to ${want}; recreating ${sts} (pods keep running)`,
    );
    return true;
  }

  private unchanged(c: AppliedChild, ns: string): boolean {
    const live = this.d.cache.get(c.r, ns, c.name);
    const a = this.applied.get(c.key);
    return !!live && !!a && a.fingerprint === fingerprint(live);
  }

  private live(o: Desired): boolean {
    return !!this.d.cache.get(resourceOf(o), o.metadata.namespace ?? '', o.metadata.name);
  }

  /** Children of `cr` of one kind: our labels and a controller reference to this very object. */
  private owned(cr: VelozDeployment, r: ResourceRef<CachedKind>): Array<CachedShapes[CachedKind]> {
    let list: Array<CachedShapes[CachedKind]>;
    try {
      list = this.d.cache.listByInstance(r, cr.metadata?.namespace ?? '', cr.metadata?.name ?? '');
    } catch {
      // Kinds the cluster does not serve (monitoring) have no informer and no children.
      return [];
    }
    return list.filter(
      (o) =>
        o.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY &&
        o.metadata.ownerReferences?.some((ref) => ref.uid === cr.metadata?.uid && ref.controller),
    );
  }

  /**
   * A StatefulSet as its cache entry says; one that the last render applied and the cache has
   * not seen yet is new, not absent: else the first status of every desk would say Pending and
   * the pass woken by the StatefulSet's arrival would apply another saying Progressing.
   */
  private observedSts(ns: string, x: string, name: string): ObservedStatefulSet | undefined {
    const s = this.d.cache.get(RESOURCES.statefulSet, ns, name);
    if (!s) {
      const applied = this.rendered
        .get(`${ns}/${x}`)
        ?.children.some((c) => c.r === RESOURCES.statefulSet && c.name === name);
      return applied ? NOT_OBSERVED_YET : undefined;
    }
    return {
      generation: s.metadata.generation ?? 0,
      observedGeneration: s.status?.observedGeneration ?? 0,
      replicas: s.spec?.replicas ?? 0,
      readyReplicas: s.status?.readyReplicas ?? 0,
      updatedReplicas: s.status?.updatedReplicas ?? 0,
    };
  }

  private lastBackup(ns: string, x: string): LastBackup | undefined {
    let latest: LastBackup | undefined;
    const jobs = this.d.cache
      .listByInstance(RESOURCES.job, ns, x)
      .filter(
        (o) =>
          !!o.metadata.ownerReferences?.some(
            (r) => r.kind === 'CronJob' && r.name === names(x).backupCronJob,
          ),
      );
    for (const j of jobs) {
      const done = j.status?.conditions?.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (!done?.lastTransitionTime) continue;
      if (latest?.time && latest.time >= done.lastTransitionTime) continue;
      latest = {
        time: done.lastTransitionTime,
        result: done.type === 'Complete' ? 'Succeeded' : 'Failed',
        ...(done.type === 'Failed' && done.message ? { message: done.message } : {}),
      };
    }
    return latest;
  }

  /** spec.maintenance.calendarRef read from its ConfigMap, or why it cannot be. */
  private tradingCalendar(
    cr: VelozDeployment,
    ns: string,
  ): { calendar: TradingCalendar } | { error: string } | undefined {
    const ref = cr.spec.maintenance?.calendarRef;
    if (!ref) return undefined;
    const key = ref.key ?? 'calendar.yaml';
    const where = `trading calendar ConfigMap ${ns}/${ref.name} (spec.maintenance.calendarRef)`;
    const cm = this.d.cache.get(RESOURCES.configMap, ns, ref.name);
    if (!cm) return { error: `${where} not found` };
    if (cm.metadata.labels?.[CALENDAR_LABEL] !== 'true')
      return { error: `${where} lacks the label ${CALENDAR_LABEL}: "true"` };
    const text = cm.data?.[key];
    if (text === undefined) return { error: `${where} has no key ${key}` };
    try {
      return { calendar: parseCalendar(text, `${where} ${key}`) };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** The newest finished restore drill (spec.backup.verify) and its pods' reports. */
  private restoreTest(cr: VelozDeployment, ns: string, x: string): RestoreTest | undefined {
    if (!cr.spec.backup.verify) return undefined;
    let newest: { name: string; time: string; failed: boolean; message?: string } | undefined;
    for (const j of this.d.cache.listByInstance(RESOURCES.job, ns, x)) {
      if (
        !j.metadata.ownerReferences?.some(
          (r) => r.kind === 'CronJob' && r.name === names(x).restoreDrillCronJob,
        )
      )
        continue;
      const done = j.status?.conditions?.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (!done?.lastTransitionTime || !j.metadata.name) continue;
      if (newest && newest.time >= done.lastTransitionTime) continue;
      newest = {
        name: j.metadata.name,
        time: done.lastTransitionTime,
        failed: done.type === 'Failed',
        ...(done.message ? { message: done.message } : {}),
      };
    }
    if (!newest) return undefined;
    const job = newest.name;
    const messages = new Map<string, string | undefined>();
    for (const p of this.d.cache.listByInstance(RESOURCES.pod, ns, x)) {
      if (!p.metadata.ownerReferences?.some((r) => r.kind === 'Job' && r.name === job)) continue;
      for (const t of p.status.terminated ?? []) messages.set(t.name, t.message);
    }
    return summarizeDrill(cr.spec.pairs, {
      time: newest.time,
      jobFailed: newest.failed,
      ...(newest.message ? { jobMessage: newest.message } : {}),
      messages,
    });
  }

  /**
   * Computes and (only when it changed, and not while it is held back: status-settle.ts) writes
   * the status; says whether it is Ready, and how long it is held back.
   */
  private async writeStatus(
    cr: VelozDeployment,
    credentials: Credentials,
    tls: TlsCheck | undefined,
    monitoringServed: boolean,
    applyError: string | undefined,
    events: EventBatch,
    account: AccountClaim,
  ): Promise<{ ready: boolean; heldMs: number }> {
    const ns = cr.metadata?.namespace ?? '';
    const x = cr.metadata?.name ?? '';
    const pods = this.d.cache.listByInstance(RESOURCES.pod, ns, x);
    const claims = this.d.cache
      .listByInstance(RESOURCES.pvc, ns, x)
      .filter((c) => c.status?.phase === 'Bound' && !!c.metadata.name?.startsWith(names(x).walClaim('')));
    const readyPods = new Set(pods.filter(podReady).map((p) => p.metadata.name ?? ''));
    // Only ready engines are asked for their WAL status; the answers are read back below.
    const readyEngines = new Map<number, string>();
    for (let i = 0; i < cr.spec.pairs; i++)
      if (readyPods.has(names(x).enginePod(i))) readyEngines.set(i, names(x).enginePod(i));
    this.d.wal?.track(ns, x, readyEngines);
    const status = computeDeploymentStatus(
      cr,
      {
        engine: this.observedSts(ns, x, names(x).engine),
        gateway: this.observedSts(ns, x, names(x).gateway),
        readyPods,
        boundClaims: new Set(claims.map((c) => c.metadata.name ?? '')),
        credentials,
        ...(tls ? { tls } : {}),
        monitoringServed,
        ...this.engineReports(ns, x),
        lastBackup: this.lastBackup(ns, x),
        restoreTest: this.restoreTest(cr, ns, x),
        applyError,
        rollout: cr.spec.paused ? undefined : this.rollouts.get(`${ns}/${x}`)?.condition,
        account,
        ...(this.d.nodes ? { nodes: this.enginesNodes(cr, pods, this.d.nodes) } : {}),
      },
      this.d.now().toISOString(),
    );
    const ready = conditionOf(status.conditions, 'Ready')?.status === 'True';
    if (!this.written.changed(cr, status, cr.status)) {
      this.settle.settled(`${ns}/${x}`);
      return { ready, heldMs: 0 };
    }
    // Held back, its transitions are not news yet either: the pass that writes it records them.
    const heldMs = this.settle.hold(`${ns}/${x}`, status);
    if (heldMs > 0) return { ready, heldMs };
    const before = this.written.before(cr, cr.status?.conditions);
    recordTransitions(
      events,
      cr,
      before,
      status.conditions,
      [
        'CredentialsReady',
        'Ready',
        'Degraded',
        'MonitoringReady',
        'BackupReady',
        'BackupVerified',
        'ExchangeInSync',
        'AccountConflict',
      ],
      // Pairs still starting are not news (Degraded says when something is wrong).
      ['PairsNotReady', 'NotReported'],
    );
    pairLostEvents(events, cr, before, status.conditions);
    await this.d.writer.applyStatus(RESOURCES.velozDeployment, ns, x, status);
    this.written.wrote(cr, status);
    this.settle.settled(`${ns}/${x}`);
    return { ready, heldMs: 0 };
  }

  /** Where each pair's engine pod runs, and how its node is, as the Node informer last saw. */
  private enginesNodes(
    cr: VelozDeployment,
    pods: readonly CachedPod[],
    access: NodeAccess,
  ): NodesObservation {
    if (!access.readable) return { readable: false };
    const x = cr.metadata?.name ?? '';
    const engines = new Map<number, EnginePlacement>();
    for (let i = 0; i < cr.spec.pairs; i++) {
      const pod = pods.find((p) => p.metadata.name === names(x).enginePod(i));
      if (!pod) continue;
      const node = pod.spec.nodeName;
      const seen = node ? this.d.cache.get(RESOURCES.node, '', node) : undefined;
      // The cache keeps only the Ready condition (cache-transforms.ts).
      const c = seen?.status.conditions?.[0];
      engines.set(i, {
        pod: names(x).enginePod(i),
        node,
        readiness: seen
          ? { status: c?.status, since: c?.lastTransitionTime, reason: c?.reason, message: c?.message }
          : undefined,
      });
    }
    return { readable: true, engines };
  }

  /** What the engines last reported, split into the WAL figures and the exchange reconciliation. */
  private engineReports(ns: string, x: string): Pick<ObservedDeployment, 'wal' | 'exchange'> {
    const wal = new Map<number, { walEntries: number; lastCheckpoint?: string }>();
    const exchange = new Map<number, ExchangeObservation>();
    for (const [i, r] of this.d.wal?.get(ns, x) ?? []) {
      wal.set(i, {
        walEntries: r.walEntries,
        ...(r.lastCheckpoint !== undefined && { lastCheckpoint: r.lastCheckpoint }),
      });
      if (r.exchange) exchange.set(i, r.exchange);
    }
    return { wal, exchange };
  }

  /**
   * While its strategies stop, the deployment says so (condition Deleting), and names those whose
   * cleanup waits on an engine that does not answer, with an Event when that starts or ends.
   */
  private async writeDeletingStatus(cr: CachedDeployment, strategies: CachedStrategy[]): Promise<void> {
    const ns = cr.metadata.namespace ?? '';
    const cleanups = strategies
      .map((s) => {
        const degraded = conditionOf(s.status?.conditions, 'Degraded');
        const waits = !!s.metadata.deletionTimestamp && degraded?.reason === 'CleanupPending';
        return { name: s.metadata.name ?? '', blocked: waits ? degraded.message : undefined };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const status = deletingStatus(cr, cleanups, this.d.now().toISOString());
    const before = conditionOf(this.written.before(cr, cr.status?.conditions), 'Deleting');
    const after = conditionOf(status.conditions, 'Deleting')!;
    // On a change of reason only: an engine's error text may differ at every retry.
    if (before?.reason !== after.reason)
      await this.d.events.record(
        cr,
        after.reason === 'CleanupBlocked' ? 'Warning' : 'Normal',
        after.reason,
        after.message,
      );
    if (this.written.changed(cr, status, cr.status)) {
      await this.d.writer.applyStatus(RESOURCES.velozDeployment, ns, cr.metadata.name ?? '', status);
      this.written.wrote(cr, status);
    }
  }

  /** Deleting a deployment first removes its strategies (their finalizers cancel open orders). */
  private async finalize(cr: CachedDeployment): Promise<ReconcileResult | void> {
    if (!cr.metadata.finalizers?.includes(DEPLOYMENT_FINALIZER)) return;
    const ns = cr.metadata.namespace ?? '';
    const strategies = this.d.cache.list(
      RESOURCES.velozStrategy,
      ns,
      (s) => s.spec.deploymentRef.name === cr.metadata.name,
    );
    if (strategies.length > 0) {
      for (const s of strategies) {
        if (!s.metadata.deletionTimestamp)
          await this.d.writer.delete(RESOURCES.velozStrategy, ns, s.metadata.name ?? '');
      }
      await this.writeDeletingStatus(cr, strategies);
      return { requeueAfterMs: 2_000 };
    }
    // The account goes with the desk: the next desk on it may start. Best effort: a holder that
    // is gone loses its Lease to the next desk anyway, so an unreachable Lease holds nothing up.
    try {
      await this.d.accounts?.release(cr);
    } catch (err) {
      this.d.log.warn({ err, key: `${ns}/${cr.metadata.name}` }, 'could not release the account Lease');
    }
    await this.d.writer.mergePatch(RESOURCES.velozDeployment, ns, cr.metadata.name ?? '', {
      metadata: {
        finalizers: cr.metadata.finalizers.filter((f) => f !== DEPLOYMENT_FINALIZER),
        resourceVersion: cr.metadata.resourceVersion,
      },
    });
    for (const k of this.applied.keys())
      if (k.startsWith(`${ns}/${cr.metadata.name}|`)) this.applied.delete(k);
  }
}
