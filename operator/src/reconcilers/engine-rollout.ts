// When a change that restarts the engines may roll out (spec.maintenance, ADR 0021), and how it is
// held meanwhile. decideRollout() is a pure function of the policy, the windows, the annotation
// and `now` (the reconciler's clock); holdEngineTemplate() changes one rendered StatefulSet.
import { createHash } from 'node:crypto';
import type { MaintenanceSpec } from '@veloz/api/generated/types';
import { ROLLOUT_NOW_ANNOTATION } from '@veloz/api/crd/maintenance';
import { combineStates, windowState, type WindowState } from '@veloz/api/maintenance-window';
import { calendarState, type TradingCalendar } from '@veloz/api/trading-calendar';
import type { KubernetesObject as Desired } from '@veloz/render/render';
import type { CachedStatefulSet } from '../cache-transforms.ts';
import type { ConditionInput } from '../status/conditions.ts';

/**
 * On the engine StatefulSet: the hash of the pod template (and WAL claim size) the engines were
 * last released to. A StatefulSet without it (made by an older operator) counts as released.
 */
export const RELEASED_TEMPLATE_LABEL = 'veloz.io/released-template';

export { ROLLOUT_NOW_ANNOTATION };

export interface RolloutInput {
  maintenance: MaintenanceSpec | undefined;
  /** The rendered engine template differs from the one the engines were last released to. */
  pending: boolean;
  /** Annotation veloz.io/rollout-now is "true". */
  forced: boolean;
  now: Date;
  /** WhenFlat: since when every engine has had no open order and no position change. */
  flatSince?: Date;
  /**
   * The trading calendar of spec.maintenance.calendarRef, read from its ConfigMap, or why it
   * cannot be read (it then never opens, like a window that cannot be read).
   */
  calendar?: { calendar: TradingCalendar } | { error: string };
}

export interface RolloutDecision {
  /** Apply the new engine template now. */
  release: boolean;
  condition: ConditionInput;
  /** While held: when the answer may change (a window opens, the engines have been flat long enough). */
  recheckAt?: Date;
}

const cond = (pending: boolean, reason: string, message: string): ConditionInput => ({
  type: 'RolloutPending',
  status: pending ? 'True' : 'False',
  reason,
  message,
});

const HOW_TO_FORCE = `annotate ${ROLLOUT_NOW_ANNOTATION}=true to roll it now`;

export function decideRollout(i: RolloutInput): RolloutDecision {
  if (!i.pending)
    return { release: true, condition: cond(false, 'NoPendingChange', 'the engines run the current spec') };
  const m = i.maintenance;
  const policy = m?.policy ?? 'Immediate';
  const released = (why: string) => ({
    release: true,
    condition: cond(false, 'Released', `the engines are rolling out: ${why}`),
  });
  if (i.forced) return released(`forced by annotation ${ROLLOUT_NOW_ANNOTATION}`);
  if (policy === 'Immediate') return released('rollout policy Immediate');
  let w: WindowState | undefined;
  if (m?.windows?.length || i.calendar) {
    try {
      const states = m?.windows?.length ? [windowState(m.windows, i.now)] : [];
      if (i.calendar && 'error' in i.calendar) throw new Error(i.calendar.error);
      if (i.calendar) states.push(calendarState(i.calendar.calendar, i.now));
      w = combineStates(states);
    } catch (err) {
      // Fail closed: a window that cannot be read never opens, and says why.
      const why = err instanceof Error ? err.message : String(err);
      return { release: false, condition: cond(true, 'InvalidWindow', `${why}; ${HOW_TO_FORCE}`) };
    }
    if (!w.open) {
      const when = w.nextStart
        ? `the next maintenance window, at ${w.nextStart.toISOString()}`
        : 'a maintenance window, but none opens again';
      return {
        release: false,
        condition: cond(
          true,
          'WaitingForWindow',
          `a change that restarts the engines waits for ${when}; ${HOW_TO_FORCE}`,
        ),
        ...(w.nextStart ? { recheckAt: w.nextStart } : {}),
      };
    }
  }
  const open = w ? `maintenance window open until ${w.closesAt!.toISOString()}` : '';
  if (policy === 'InWindow') return released(open);
  // WhenFlat: inside a window when there are windows, and flat for flatSeconds.
  const flatMs = (m?.flatSeconds ?? 60) * 1000;
  if (i.flatSince && i.now.getTime() - i.flatSince.getTime() >= flatMs)
    return released(
      `no open orders and no position change for ${m?.flatSeconds ?? 60}s${open ? `; ${open}` : ''}`,
    );
  return {
    release: false,
    condition: cond(
      true,
      'WaitingForFlat',
      `a change that restarts the engines waits until no engine has an open order and no position changed for ${m?.flatSeconds ?? 60}s${i.flatSince ? ` (flat since ${i.flatSince.toISOString()})` : ''}; ${HOW_TO_FORCE}`,
    ),
    recheckAt: new Date((i.flatSince ?? i.now).getTime() + flatMs),
  };
}

// render()'s objects are plain manifests; these are the fields of its StatefulSet read here.
interface StsShape {
  metadata: { labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    template?: unknown;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
    volumeClaimTemplates?: Array<{ spec?: { resources?: { requests?: { storage?: string } } } }>;
  };
}

/** What restarts an engine when it changes: its pod template, and its WAL claims' size. */
export function engineTemplateHash(sts: Desired): string {
  const s = sts as StsShape;
  const size = s.spec?.volumeClaimTemplates?.map((t) => t.spec?.resources?.requests?.storage ?? null);
  return createHash('sha256')
    .update(JSON.stringify([s.spec?.template ?? null, size ?? null]))
    .digest('hex')
    .slice(0, 16);
}

/** The rendered engine StatefulSet, labelled with the template its engines are released to. */
export function releaseEngineTemplate(sts: Desired, hash: string): Desired {
  return {
    ...sts,
    metadata: { ...sts.metadata, labels: { ...sts.metadata.labels, [RELEASED_TEMPLATE_LABEL]: hash } },
  };
}

/**
 * The rendered engine StatefulSet with its rollout held: the new template is stored, but the
 * partition (every ordinal) keeps each engine, and any engine pod recreated meanwhile, on the
 * current revision; the WAL claims keep their live size (a StatefulSet's claim templates cannot
 * change, and growing them recreates it); the label keeps the template released before.
 */
export function holdEngineTemplate(sts: Desired, live: CachedStatefulSet, released: string): Desired {
  const s = sts as StsShape;
  const spec = s.spec ?? {};
  return {
    ...releaseEngineTemplate(sts, released),
    spec: {
      ...spec,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: spec.replicas ?? 0 } },
      ...(live.spec?.volumeClaimTemplates && spec.volumeClaimTemplates
        ? {
            volumeClaimTemplates: spec.volumeClaimTemplates.map((t, k) => ({
              ...t,
              spec: {
                ...t.spec,
                resources: {
                  ...t.spec?.resources,
                  requests: {
                    ...t.spec?.resources?.requests,
                    ...(live.spec?.volumeClaimTemplates?.[k]?.spec?.resources?.requests?.storage
                      ? { storage: live.spec.volumeClaimTemplates[k].spec.resources.requests.storage }
                      : {}),
                  },
                },
              },
            })),
          }
        : {}),
    },
  };
}
