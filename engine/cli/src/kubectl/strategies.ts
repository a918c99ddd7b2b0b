// `kubectl veloz strategies`: each VelozStrategy of a desk with the state the operator read back
// from every engine it runs on.
import type { StrategyEngineStatus, VelozStrategy } from '@veloz/api/generated/types';
import type { KubernetesObject } from '@veloz/operator/kube/resources';
import { table, type Paint } from './output.ts';

export interface StrategyView {
  name: string;
  deployment: string;
  type: string;
  symbol: string;
  enabled: boolean;
  runningEngines: number;
  position: string;
  realizedPnl: string;
  unrealizedPnl: string;
  ordersPlaced: number;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
  engines: StrategyEngineStatus[];
}

export function strategyView(o: KubernetesObject): StrategyView {
  const s = o as unknown as VelozStrategy;
  const st = s.status ?? {};
  return {
    name: s.metadata.name ?? '',
    deployment: s.spec.deploymentRef.name,
    type: s.spec.type,
    symbol: s.spec.symbol,
    enabled: s.spec.enabled,
    runningEngines: st.runningEngines ?? 0,
    position: st.position ?? '0',
    realizedPnl: st.realizedPnl ?? '0',
    unrealizedPnl: st.unrealizedPnl ?? '0',
    ordersPlaced: st.ordersPlaced ?? 0,
    conditions: (st.conditions ?? []).map(({ type, status, reason, message }) => ({
      type,
      status,
      reason,
      message,
    })),
    engines: st.engines ?? [],
  };
}

/** Strategy conditions that are bad news when True (docs/conditions.md); the rest when not True. */
const BAD_WHEN_TRUE = new Set(['Degraded', 'Halted']);

export function strategiesText(list: StrategyView[], p: Paint): string {
  if (list.length === 0) return 'No strategies on this desk.\n';
  const out: string[] = [];
  for (const s of list) {
    const notOk = s.conditions.filter((c) =>
      BAD_WHEN_TRUE.has(c.type) ? c.status === 'True' : c.status !== 'True',
    );
    out.push(
      `${p.bold(s.name)}  ${s.type} ${s.symbol}  ${s.enabled ? p.good('enabled') : p.warn('disabled')}  running on ${s.runningEngines} engine(s)`,
      `  position ${s.position}, realized PnL ${s.realizedPnl}, unrealized PnL ${s.unrealizedPnl}, ${s.ordersPlaced} orders placed`,
    );
    for (const c of notOk) out.push(p.warn(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`));
    if (s.engines.length > 0)
      out.push(
        table([
          ['  PAIR', 'STATE', 'POSITION', 'REALIZED', 'UNREALIZED', 'ORDERS', 'LAST ERROR'],
          ...s.engines.map((e) => [
            `  ${e.pair}`,
            e.state ?? '-',
            e.position ?? '-',
            e.realizedPnl ?? '-',
            e.unrealizedPnl ?? '-',
            String(e.ordersPlaced ?? 0),
            e.lastError || '-',
          ]),
        ]),
      );
    out.push('');
  }
  return out.join('\n');
}
