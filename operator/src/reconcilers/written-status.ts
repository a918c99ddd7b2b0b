// The status this operator last wrote to each desk. The informer's copy lags a write until its
// watch event arrives; a pass that took that copy for the status before it would announce a
// transition a second time, or skip a write because it matched the old status. So transition
// Events compare against the newer of the two, condition by condition, and a status is written
// unless it matches both. Another operator (after a leader change) or a person may have written
// since: the cached condition wins when its transition is later.
import type { Condition } from '@veloz/api/generated/types';
import { conditionOf } from '../status/conditions.ts';
import { sameState } from '../status/equal.ts';

interface Written {
  metadata?: { namespace?: string | undefined; name?: string | undefined; uid?: string | undefined };
}
interface Status {
  conditions?: Condition[] | undefined;
}

const keyOf = (o: Written) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const time = (c: Condition) => Date.parse(c.lastTransitionTime) || 0;

export class WrittenStatus {
  /** Per `namespace/name`: the uid written to (a desk recreated under its name is another one) and what. */
  private readonly last = new Map<string, { uid: string | undefined; status: Status }>();

  private mine(obj: Written): Status | undefined {
    const w = this.last.get(keyOf(obj));
    return w && w.uid === obj.metadata?.uid ? w.status : undefined;
  }

  /** The conditions before this pass: per type, the later transition of the cached and the written. */
  before(obj: Written, cached: Condition[] | undefined): Condition[] | undefined {
    const mine = this.mine(obj)?.conditions;
    if (!mine) return cached;
    const types = new Set([...(cached ?? []), ...mine].map((c) => c.type));
    return [...types].flatMap((type) => {
      const c = conditionOf(cached, type);
      const m = conditionOf(mine, type);
      const newer = c && m ? (time(c) > time(m) ? c : m) : (c ?? m);
      return newer ? [newer] : [];
    });
  }

  /** Whether `status` differs from the cached one or from the one last written. */
  changed(obj: Written, status: Status, cached: Status | undefined): boolean {
    const mine = this.mine(obj);
    return !sameState(status, cached) || (mine !== undefined && !sameState(status, mine));
  }

  wrote(obj: Written, status: Status): void {
    this.last.set(keyOf(obj), { uid: obj.metadata?.uid, status });
  }

  forget(namespace: string, name: string): void {
    this.last.delete(`${namespace}/${name}`);
  }
}
