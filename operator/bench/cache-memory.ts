// Heap held by the operator's informer caches for N desks' children, without a cluster: render()'s
// objects for one desk, renamed for each, as the API server sends them (the metadata-only kinds as
// PartialObjectMetadata with managedFields), listed into real informers with the cache transforms
// of the checkout TREE (so two checkouts compare in one sitting; ADR 28).
// Usage: node --expose-gc operator/bench/cache-memory.ts TREE [DESKS=2000]   (PER_KIND=1: by kind)
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { pino as Pino } from 'pino';
const [tree, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 2000);
const imp = (p: string) => import(pathToFileURL(`${tree}/${p}`).href);
const { render } = await imp('cdk8s/render/src/render.ts');
const { Informer } = await imp('operator/src/runtime/informer.ts');
const { cacheTransform, metadataOnly } = await imp('operator/src/cache-transforms.ts');
const { resourceFor } = await imp('operator/src/kube/resources.ts');
const { pino } = createRequire(`${tree}/package.json`)('pino') as { pino: typeof Pino };
const gc = (globalThis as { gc?: () => void }).gc!;

const sample = render(
  {
    apiVersion: 'veloz.io/v1alpha1',
    kind: 'VelozDeployment',
    metadata: { name: 'desk-0', namespace: 'bench-operator', uid: 'UID0' },
    spec: {
      pairs: 1,
      market: { source: 'sim', symbols: ['BTCUSDT'] },
      execution: { mode: 'sim_engine' },
      backup: { suspend: true },
    },
  },
  {
    defaultImage: 'veloz:bench',
    apiKey: 'k',
    engineTokens: { trading: 't', admin: 'a', backup: 'b' },
    monitoringApiServed: true,
  },
) as Array<{ apiVersion: string; kind: string; metadata: Record<string, unknown> }>;
const text = JSON.stringify(sample);
let rv = 1000;
// By kind: the items as listed.
const byKind = new Map<string, { r: unknown; items: string[] }>();
for (let i = 0; i < N; i++) {
  const uid = randomUUID();
  const objs = JSON.parse(text.replaceAll('desk-0', `desk-${i}`).replaceAll('UID0', uid)) as typeof sample;
  for (const o of objs) {
    const r = resourceFor(o.apiVersion, o.kind);
    const meta = {
      ...o.metadata,
      uid: randomUUID(),
      resourceVersion: String(rv++),
      generation: 1,
      creationTimestamp: '2026-12-05T19:00:00Z',
      managedFields: [
        {
          manager: 'veloz-operator',
          operation: 'Apply',
          apiVersion: o.apiVersion,
          time: '2026-12-05T19:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': {} } },
        },
      ],
    };
    const wire = metadataOnly(r)
      ? { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: meta }
      : { ...o, metadata: meta, status: {} };
    const e: { r: unknown; items: string[] } = byKind.get(o.kind) ?? { r, items: [] };
    e.items.push(JSON.stringify(wire));
    byKind.set(o.kind, e);
  }
}
gc();
gc();
const before = process.memoryUsage().heapUsed;
const informers: Array<{ close(): Promise<void>; hasSynced: boolean }> = [];
for (const [, { r, items }] of byKind) {
  const client = {
    list: async (
      _r: unknown,
      _ns: unknown,
      _s: unknown,
      _sig: unknown,
      a?: { each?: (o: unknown) => unknown },
    ) => {
      const parsed = items.map((t) => JSON.parse(t));
      return { items: a?.each ? parsed.map(a.each) : parsed, resourceVersion: '1' };
    },
    watch: async function* (_r: unknown, _n: unknown, _rv: unknown, o: { signal: AbortSignal }) {
      await new Promise((res) => o.signal.addEventListener('abort', res));
      yield* [];
    },
  };
  const inf = new Informer({
    client,
    resource: r,
    log: pino({ level: 'silent' }),
    onChange: () => undefined,
    transform: cacheTransform(r),
    metadataOnly: metadataOnly(r),
  });
  const h0 = process.memoryUsage().heapUsed;
  inf.start();
  informers.push(inf);
  while (!inf.hasSynced) await new Promise((r) => setTimeout(r, 10));
  gc();
  gc();
  if (process.env['PER_KIND'])
    console.log(
      (r as { kind: string }).kind,
      items.length,
      Math.round((process.memoryUsage().heapUsed - h0) / items.length),
      'B/object',
    );
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    tree,
    desks: N,
    objects: [...byKind.values()].reduce((a, b) => a + b.items.length, 0),
    cacheMB: +((after - before) / 2 ** 20).toFixed(1),
    bytesPerDesk: Math.round((after - before) / N),
  }),
);
for (const i of informers) await i.close();
