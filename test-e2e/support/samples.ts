// The shipped samples as the suites start from them: a user's `kubectl apply -f crds/samples/…`,
// moved into the test's namespace; on a cluster too small for the suite at the default requests
// (global-setup.ts), with small engines and gateways.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { inject } from 'vitest';
import type { KubernetesObject } from '@veloz/operator/kube/resources';

const SAMPLES = join(import.meta.dirname, '..', '..', 'crds', 'samples');

const SMALL = { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1536Mi' } };

function small<T extends KubernetesObject>(d: T): T {
  const spec = (d['spec'] ?? {}) as Record<string, Record<string, unknown> | undefined>;
  return {
    ...d,
    spec: {
      ...spec,
      engine: { ...spec['engine'], resources: SMALL },
      gateway: { ...spec['gateway'], resources: SMALL },
    },
  };
}

/** Every object of `crds/samples/<file>`, each moved into `namespace`. */
export async function sampleObjects<T extends KubernetesObject = KubernetesObject>(
  namespace: string,
  file = 'quickstart.yaml',
): Promise<T[]> {
  const docs = parseAllDocuments(await readFile(join(SAMPLES, file), 'utf8'));
  return docs.map((x) => {
    const o = x.toJS() as T;
    const moved = { ...o, metadata: { ...o.metadata, namespace } };
    return o.kind === 'VelozDeployment' && inject('smallDesks') ? small(moved) : moved;
  });
}

/** The object of `kind` in `crds/samples/<file>`, moved into `namespace`. */
export async function sample<T extends KubernetesObject = KubernetesObject>(
  kind: string,
  namespace: string,
  file = 'quickstart.yaml',
): Promise<T> {
  const o = (await sampleObjects<T>(namespace, file)).find((x) => x.kind === kind);
  if (!o) throw new Error(`crds/samples/${file} holds no ${kind}`);
  return o;
}
