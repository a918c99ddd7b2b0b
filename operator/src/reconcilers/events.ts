// Kubernetes Events about a VelozDeployment or VelozStrategy, with stable reasons. Emitted on
// changes only (created, pruned, condition transitions), so a steady state writes none.
import type { Condition } from '@veloz/api/generated/types';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { conditionOf } from '../status/conditions.ts';

interface Involved {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  record(obj: Involved, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  normal(obj: Involved, reason: string, message: string): Promise<void>;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly client: Pick<KubeClient, 'create'>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private seq = 0;

  constructor(client: Pick<KubeClient, 'create'>, log: Logger, now: () => Date = () => new Date()) {
    this.client = client;
    this.log = log;
    this.now = now;
  }

  async record(obj: Involved, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = obj.metadata?.namespace ?? 'default';
    const t = this.now().toISOString();
    this.log.info({ object: `${ns}/${obj.metadata?.name}`, kind: obj.kind, reason, type }, message);
    try {
      await this.client.create(RESOURCES.event, ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${obj.metadata?.name}.${Date.parse(t).toString(16)}${(this.seq++).toString(16)}`,
          namespace: ns,
        },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata?.name,
          namespace: ns,
          uid: obj.metadata?.uid,
          resourceVersion: obj.metadata?.resourceVersion,
        },
        reason,
        message: message.slice(0, 1024),
        type,
        source: { component: 'veloz-operator' },
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
      });
    } catch (err) {
      // An Event is a record, not part of the reconcile: failing to write one must not fail it.
      this.log.warn({ err, reason }, 'could not record an Event');
    }
  }

  normal(obj: Involved, reason: string, message: string): Promise<void> {
    return this.record(obj, 'Normal', reason, message);
  }
}

/**
 * Events written alongside a reconcile pass instead of one after another in it: record() starts
 * the write, settled() waits for every write started so far. A failed write is logged, never
 * thrown (an Event is a record, not part of the reconcile).
 */
export class EventBatch {
  private readonly recorder: EventRecorder;
  private readonly log: Logger;
  private readonly pending: Array<Promise<void>> = [];

  constructor(recorder: EventRecorder, log: Logger) {
    this.recorder = recorder;
    this.log = log;
  }

  record(obj: Involved, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.pending.push(
      this.recorder
        .record(obj, type, reason, message)
        .catch((err: unknown) => this.log.warn({ err, reason }, 'could not record an Event')),
    );
  }

  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/**
 * One Event per condition of `types` whose status changed between `before` and `after` (Warning
 * when it turned bad: Degraded=True, anything else False). A new object's first conditions are
 * news only when something is wrong, and not while it is merely starting (`starting` reasons).
 */
/** Condition types that are bad news when True. */
const NEGATIVE = new Set(['Degraded', 'Halted']);

export function recordTransitions(
  events: EventBatch,
  obj: Involved,
  before: Condition[] | undefined,
  after: Condition[] | undefined,
  types: string[],
  starting: string[],
): void {
  for (const type of types) {
    const was = conditionOf(before, type);
    const now = conditionOf(after, type);
    if (!now || was?.status === now.status) continue;
    const bad = NEGATIVE.has(type) === (now.status === 'True') && now.status !== 'Unknown';
    if (!was && (!bad || starting.includes(now.reason))) continue;
    events.record(obj, bad ? 'Warning' : 'Normal', now.reason, `${type}=${now.status}: ${now.message}`);
  }
}
