// The shipped samples as the suites start from them: a user's `kubectl apply -f crds/samples/…`,
// moved into the test's namespace.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@veloz/operator/kube/resources';

const SAMPLES = join(import.meta.dirname, '..', '..', 'crds', 'samples');

/** Every object of `crds/samples/<file>`, each moved into `namespace`. */
export async function sampleObjects<T extends KubernetesObject = KubernetesObject>(
  namespace: string,
  file = 'quickstart.yaml',
): Promise<T[]> {
  const docs = parseAllDocuments(await readFile(join(SAMPLES, file), 'utf8'));
  return docs.map((x) => {
    const o = x.toJS() as T;
    return { ...o, metadata: { ...o.metadata, namespace } };
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
