// Annotations a person sets on a VelozDeployment or VelozStrategy to tell the operator something
// the spec cannot: they are deliberate acts, not desired state, and are documented with the
// runbook that calls for them (docs/runbooks/troubleshooting.md).

/**
 * `"true"` on a VelozStrategy, or on its VelozDeployment: a deletion stops waiting for engines
 * that do not answer. The strategy is stopped on every engine that does; for the others the
 * operator records (Event and log) that the strategy may still run there and its orders may
 * remain open on the exchange, and lets the finalizer go.
 */
export const ABANDON_ENGINES = 'veloz.io/abandon-engines';

/** Whether `o` carries `annotation: "true"`. */
export function annotated(
  o: { metadata?: { annotations?: Record<string, string> | undefined } } | undefined,
  annotation: string,
): boolean {
  return o?.metadata?.annotations?.[annotation] === 'true';
}
