// Next fire time of a standard five-field cron expression (minute hour day-of-month month
// day-of-week; *, lists, ranges, steps), in UTC. Used to tell when a backup is overdue.

function field(spec: string, min: number, max: number): Set<number> | null {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return null;
    const step = m[2] ? Number(m[2]) : 1;
    let lo = min;
    let hi = max;
    if (m[1] !== '*') {
      const [a, b] = m[1]!.split('-').map(Number) as [number, number | undefined];
      lo = a;
      hi = b ?? (m[2] ? max : a);
    }
    if (lo < min || hi > max || lo > hi || step < 1) return null;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export interface Cron {
  next(afterMs: number): number;
}

export function parseCron(expr: string): Cron | null {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const [mi, h, dom, mon, dow] = [
    field(parts[0]!, 0, 59),
    field(parts[1]!, 0, 23),
    field(parts[2]!, 1, 31),
    field(parts[3]!, 1, 12),
    field(parts[4]!, 0, 7),
  ];
  if (!mi || !h || !dom || !mon || !dow) return null;
  if (dow.has(7)) dow.add(0);
  const domAny = parts[2] === '*';
  const dowAny = parts[4] === '*';
  return {
    next(afterMs: number): number {
      const d = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
      // Four years of minutes bounds the search for any valid expression.
      for (let i = 0; i < 4 * 366 * 24 * 60; i++) {
        const dayOk =
          domAny && dowAny
            ? true
            : domAny
              ? dow.has(d.getUTCDay())
              : dowAny
                ? dom.has(d.getUTCDate())
                : dom.has(d.getUTCDate()) || dow.has(d.getUTCDay());
        if (mon.has(d.getUTCMonth() + 1) && dayOk && h.has(d.getUTCHours()) && mi.has(d.getUTCMinutes())) {
          return d.getTime();
        }
        d.setTime(d.getTime() + 60_000);
      }
      return Number.POSITIVE_INFINITY;
    },
  };
}
