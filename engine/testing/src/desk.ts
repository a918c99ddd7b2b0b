// A VelozDeployment as render()'s builders take it: schema defaults applied, named, namespaced
// and with a uid (for owner references), as read from the API server.
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import type { VelozDeployment } from '@veloz/api/generated/types';

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export type Desk = VelozDeployment & { metadata: { name: string } };

export function desk(name: string, spec: DeepPartial<VelozDeployment['spec']> = {}): Desk {
  return applyDefaults(VELOZ_DEPLOYMENT.schema, {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name, namespace: 'trading', uid: `uid-${name}` },
    spec,
  }) as Desk;
}

/**
 * A rendered object as the builder tests read it: they check nested fields of every kind of
 * object against literal expectations, and typing each Kubernetes kind here would only repeat
 * what the snapshots and the API server's validation already check.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = any;
