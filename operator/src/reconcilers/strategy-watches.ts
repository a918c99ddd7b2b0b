// What the VelozStrategy controller watches (controller-runtime's SetupWithManager): the
// strategies; their deployments (a changed spec may add or remove engines, or the symbol); and
// the deployments' engine pods (a ready engine gets the strategy pushed). Both find the strategies
// of a deployment through an index of strategies by deployment.
import type { CachedPod, CachedStrategy } from '../cache-transforms.ts';
import type { IndexedCache } from '../cache.ts';
import { RESOURCES, objectKey } from '../kube/resources.ts';
import { MANAGED_SELECTOR, ownerKey, type Watches } from '../runtime/watches.ts';

/** Index of VelozStrategies by the deployment (`namespace/name`) they run on. */
export const BY_DEPLOYMENT = 'deploymentRef';

function strategiesOf(cache: IndexedCache, deployment: string): string[] {
  return cache.byIndex(RESOURCES.velozStrategy, BY_DEPLOYMENT, deployment).map(objectKey);
}

export const STRATEGY_WATCHES: Watches = {
  for: RESOURCES.velozStrategy,
  owns: [],
  watches: [
    { resource: RESOURCES.velozDeployment, map: (d, cache) => strategiesOf(cache, objectKey(d)) },
    {
      resource: RESOURCES.pod,
      selector: MANAGED_SELECTOR,
      map: (p: CachedPod, cache) => {
        const deployment = ownerKey(p);
        const engine = p.metadata.labels?.['app.kubernetes.io/component'] === 'engine';
        return engine && deployment ? strategiesOf(cache, deployment) : [];
      },
    },
  ],
  indexes: [
    {
      resource: RESOURCES.velozStrategy,
      name: BY_DEPLOYMENT,
      values: (s: CachedStrategy) => [`${s.metadata.namespace ?? ''}/${s.spec.deploymentRef.name}`],
    },
  ],
};
