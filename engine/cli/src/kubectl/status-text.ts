// `kubectl veloz status` as text: a header, the pairs, the desk totals, conditions and Events.
import type { DeskStatus } from './desk-status.ts';
import { ago, table, type Paint } from './output.ts';

const yesNo = (p: Paint, ok: boolean | null, yes = 'yes', no = 'no'): string =>
  ok === null ? '-' : ok ? p.good(yes) : p.bad(no);

export function statusText(s: DeskStatus, p: Paint, now: number): string {
  const out: string[] = [];
  const phase =
    s.phase === 'Ready' ? p.good(s.phase) : s.phase === 'Degraded' ? p.bad(s.phase) : p.warn(s.phase);
  out.push(
    `${p.bold(`VelozDeployment ${s.namespace}/${s.name}`)}  ${phase}${s.paused ? p.warn(' (paused)') : ''}`,
  );
  out.push(
    table([
      ['Mode:', s.mode],
      ['Image:', s.image || '-'],
      ['Pairs:', `${s.readyPairs}/${s.desiredPairs} ready`],
      ['Orders:', `${s.orders.open} open, ${s.orders.filledToday} filled today (UTC)`],
      ['WAL:', `${s.wal.entries} entries, last checkpoint ${ago(s.wal.lastCheckpoint, now)}`],
      [
        'Last backup:',
        s.lastBackup
          ? `${s.lastBackup.result === 'Succeeded' ? p.good(s.lastBackup.result) : p.bad(s.lastBackup.result)} ${ago(s.lastBackup.time, now)}${s.lastBackup.message ? ` (${s.lastBackup.message})` : ''}`
          : 'none yet',
      ],
      ['Exchange sync:', yesNo(p, s.exchangeInSync, 'in sync', 'OUT OF SYNC')],
    ]),
  );

  out.push('', p.bold('Pairs'));
  out.push(
    table([
      ['PAIR', 'ENGINE', 'GATEWAY', 'MODE', 'OPEN', 'FILLED TODAY', 'WAL', 'CHECKPOINT', 'SYNC', 'RESTARTS'],
      ...s.pairs.map((x) => [
        String(x.index),
        yesNo(p, x.engineReady, 'ready', 'not ready'),
        yesNo(p, x.gatewayReady, 'ready', 'not ready'),
        x.executionMode || '-',
        x.error ? '?' : String(x.ordersOpen),
        x.error ? '?' : String(x.ordersFilledToday),
        x.walEntries === null ? '-' : String(x.walEntries),
        ago(x.lastCheckpoint, now),
        yesNo(p, x.inSync),
        String(x.restarts),
      ]),
    ]),
  );
  for (const x of s.pairs) {
    if (x.error) out.push(p.bad(`pair ${x.index}: engine ${x.engine} not read: ${x.error}`));
    if (x.syncMessage) out.push(p.warn(`pair ${x.index}: exchange: ${x.syncMessage}`));
  }

  out.push('', p.bold('Positions (all pairs)'));
  out.push(
    s.positions.length === 0
      ? 'none'
      : table([
          ['SYMBOL', 'QUANTITY', 'REALIZED PNL', 'UNREALIZED PNL'],
          ...s.positions.map((x) => [x.symbol, x.quantity, x.realizedPnl, x.unrealizedPnl]),
        ]),
  );
  if (s.incomplete.length > 0)
    out.push(p.bad(`totals leave out pair ${s.incomplete.join(', ')}: its engine was not read`));

  out.push('', p.bold('Conditions'));
  out.push(
    s.conditions.length === 0
      ? 'none reported yet'
      : table([
          ['TYPE', 'STATUS', 'REASON', 'MESSAGE'],
          ...s.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
        ]),
  );

  out.push('', p.bold('Recent events'));
  out.push(
    s.events.length === 0
      ? 'none'
      : table([
          ['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
          ...s.events.map((e) => [
            ago(e.time, now),
            e.type === 'Warning' ? p.warn(e.type) : e.type,
            e.reason,
            e.object,
            e.message,
          ]),
        ]),
  );
  return `${out.join('\n')}\n`;
}
