// Metadata-only answers (PartialObjectMetadata) from a real API server: what the operator's
// metadata informers and its child applies ask for (docs/adr/0026). The object's spec and data
// never come, and apiVersion and kind name the resource, as the full answer does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateCluster, clusterBinariesBuilt } from '@veloz/testing/private-cluster';
import { KubeClient, type WatchEvent } from './client.ts';
import { RESOURCES, type KubernetesObject } from './resources.ts';

const built = clusterBinariesBuilt();
const NS = 'default';

const configMap = (name: string, value: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, labels: { app: 'metadata-only' } },
  data: { big: value.repeat(1000) },
});

describe.skipIf(!built)(
  built
    ? 'metadata-only answers on a local cluster'
    : 'metadata-only answers on a local cluster: SKIPPED, the cluster binaries are not built (run hack/build-k8s.sh)',
  () => {
    const cluster = new PrivateCluster('metaonly');
    let client: KubeClient;
    beforeAll(() => {
      cluster.up();
      client = KubeClient.load(cluster.kubeconfig);
    });
    afterAll(() => {
      client?.close();
      cluster.down();
    });

    it('answers an apply, a list and a watch with metadata only', async () => {
      const full = await client.apply(configMap('full', 'a'));
      expect(full).toHaveProperty('data');

      const applied = await client.apply(configMap('meta', 'b'), { metadataOnly: true });
      expect(applied).not.toHaveProperty('data');
      expect(applied).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'meta', namespace: NS, labels: { app: 'metadata-only' } },
      });
      expect(applied.metadata?.resourceVersion).toMatch(/^\d+$/);

      const listed = await client.list(RESOURCES.configMap, NS, 'app=metadata-only', undefined, {
        metadataOnly: true,
      });
      expect(listed.items.map((o) => o.metadata?.name).sort()).toEqual(['full', 'meta']);
      for (const o of listed.items) {
        expect(o).not.toHaveProperty('data');
        expect(o).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
      }

      // The API server sends an empty PartialObjectMetadataList with items null.
      const none = await client.list(RESOURCES.configMap, NS, 'app=none', undefined, { metadataOnly: true });
      expect(none.items).toEqual([]);

      const stop = new AbortController();
      const events: Array<WatchEvent<KubernetesObject>> = [];
      const watching = (async () => {
        for await (const ev of client.watch(RESOURCES.configMap, NS, listed.resourceVersion, {
          labelSelector: 'app=metadata-only',
          timeoutSeconds: 60,
          signal: stop.signal,
          metadataOnly: true,
        })) {
          events.push(ev);
          if (ev.type === 'MODIFIED') stop.abort();
        }
      })().catch((err: unknown) => {
        if (!stop.signal.aborted) throw err;
      });
      await client.apply(configMap('meta', 'c'));
      await watching;
      const modified = events.find((e) => e.type === 'MODIFIED')!;
      expect(modified.object).not.toHaveProperty('data');
      expect(modified.object).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'meta' },
      });
    });
  },
);
