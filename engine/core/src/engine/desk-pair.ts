// Who this engine is on a shared exchange account: its desk id and pair (ADR 0018).
import type { DeskPair } from '@veloz/api/client-order-id';
import type { Config } from '@veloz/api/variables';
import { identityFromHostname } from '@veloz/backup/shipping/shipper';

/** The deployment and pair this engine serves: the variables, else the host name <name>-engine-<pair>. */
export function deploymentPair(c: Pick<Config, 'deploymentName' | 'pairIndex'>): {
  deployment: string;
  pair: number;
} {
  const fromHost = identityFromHostname();
  return {
    deployment: c.deploymentName ?? fromHost?.deployment ?? 'veloz',
    pair: c.pairIndex ?? fromHost?.pair ?? 0,
  };
}

/** The desk and pair named in this engine's client order ids, or undefined without VELOZ_DESK_ID. */
export function deskPair(c: Pick<Config, 'deskId' | 'deploymentName' | 'pairIndex'>): DeskPair | undefined {
  return c.deskId === undefined ? undefined : { desk: c.deskId, pair: deploymentPair(c).pair };
}
