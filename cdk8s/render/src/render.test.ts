import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@veloz/api/variables';
import { names } from '@veloz/api/names';
import { VELOZ_DEPLOYMENT } from '@veloz/api/crd/crds';
import { applyDefaults } from '@veloz/api/crd/defaults';
import type { VelozDeployment } from '@veloz/api/generated/types';
import { CONFIG_CHECKSUM_ANNOTATION, SECRETS_CHECKSUM_ANNOTATION, render } from './render.ts';
import type { KubernetesObject, RenderContext } from './render.ts';
import { toYaml } from './synth.ts';
import type { Manifest } from '@veloz/testing/desk';

const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'crds', 'samples');
const API_KEY = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const CTX: RenderContext = {
  defaultImage: 'registry.example/veloz:0.1.0',
  apiKey: API_KEY,
  engineTokens: { trading: 'trading-token', admin: 'admin-token', backup: 'backup-token' },
  monitoringApiServed: true,
  secretsHash: 'sha256:5f1e0c',
};

function samples(): Array<[string, VelozDeployment]> {
  return readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(SAMPLES, f), 'utf8'))
        .map((d) => d.toJS() as VelozDeployment)
        .filter((o) => o.kind === 'VelozDeployment')
        .map((o): [string, VelozDeployment] => {
          // As read from the API server: namespaced, with a uid for owner references.
          o.metadata = { ...o.metadata, namespace: 'trading', uid: `uid-${o.metadata.name}` };
          return [`${f.replace(/\.yaml$/, '')}-${o.metadata.name}`, o];
        }),
    );
}

const SAMPLE_CRS = samples();
const byName = (name: string) => structuredClone(SAMPLE_CRS.find(([n]) => n === name)![1]);
const production = () => byName('production-veloz-testnet');
const quickstart = () => byName('quickstart-quickstart');

const find = (objs: KubernetesObject[], kind: string, name: string): Manifest => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(`no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const container = (sts: Manifest, name: string) =>
  sts.spec.template.spec.containers.find((c: Manifest) => c.name === name);
const envOf = (c: Manifest) =>
  Object.fromEntries((c.env ?? []).map((e: Manifest) => [e.name, e.value ?? e.valueFrom]));

/** The pod spec of a StatefulSet or CronJob, else undefined. */
const podSpecOf = (o: Manifest): Manifest =>
  o.kind === 'StatefulSet'
    ? o.spec.template.spec
    : o.kind === 'CronJob'
      ? o.spec.jobTemplate.spec.template.spec
      : undefined;

describe('render snapshots', () => {
  it.each(SAMPLE_CRS)('%s', async (name, cr) => {
    await expect(toYaml(render(cr, CTX))).toMatchFileSnapshot(`__snapshots__/render/${name}.yaml`);
  });
});

const CREDENTIALS_FROM_SECRETS = {
  VELOZ_BINANCE_API_KEY: 'from-secret',
  VELOZ_BINANCE_API_SECRET: 'from-secret',
};

describe('render', () => {
  it('makes every object of DESIGN §4 with its fixed name', () => {
    const objs = render(production(), CTX);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/veloz-testnet-config',
        'CronJob/veloz-testnet-wal-backup',
        'NetworkPolicy/veloz-testnet-engine',
        'NetworkPolicy/veloz-testnet-wal-backup',
        'NetworkPolicy/veloz-testnet-gateway',
        'PersistentVolumeClaim/veloz-testnet-backups',
        'PodDisruptionBudget/veloz-testnet-engine',
        'PrometheusRule/veloz-testnet',
        'Secret/veloz-testnet-gateway-api-key',
        'Secret/veloz-testnet-engine-token',
        'Service/veloz-testnet',
        'Service/veloz-testnet-engine',
        'ServiceAccount/veloz-testnet',
        'ServiceAccount/veloz-testnet-engine',
        'Role/veloz-testnet-engine-lease',
        'RoleBinding/veloz-testnet-engine-lease',
        'ServiceMonitor/veloz-testnet',
        'StatefulSet/veloz-testnet-engine',
        'StatefulSet/veloz-testnet-gateway',
      ].sort(),
    );
  });

  it('is deterministic: the same input gives byte-identical output', () => {
    for (const [, cr] of SAMPLE_CRS) {
      expect(toYaml(render(structuredClone(cr), CTX))).toBe(toYaml(render(structuredClone(cr), CTX)));
    }
  });

  it('does not modify its input', () => {
    const cr = production();
    const before = structuredClone(cr);
    render(cr, CTX);
    expect(cr).toEqual(before);
  });

  it('runs the image entrypoint (tini -- node veloz.js): no container overrides the command', () => {
    const cr = production();
    cr.spec.restore = { fromBackup: { source: '/backups' } };
    const text = JSON.stringify(render(cr, CTX));
    expect(text).toContain('"args":["engine"');
    expect(text).not.toContain('"command"');
  });

  it('labels every object and owns it by the CR, in its namespace', () => {
    for (const [, cr] of SAMPLE_CRS) {
      for (const o of render(cr, CTX)) {
        const id = `${o.kind}/${o.metadata.name}`;
        expect(o.metadata.namespace, id).toBe('trading');
        expect(o.metadata.labels, id).toMatchObject({
          'app.kubernetes.io/name': 'veloz',
          'app.kubernetes.io/instance': cr.metadata.name,
          'app.kubernetes.io/part-of': 'veloz',
          'app.kubernetes.io/managed-by': 'veloz-operator',
        });
        expect(o.metadata.labels!['app.kubernetes.io/component'], id).toBeTruthy();
        // Backups outlive a deployment whose WAL is retained.
        if (id.endsWith('-backups') && cr.spec.wal?.storage?.retainOnDelete !== false) {
          expect(o.metadata.ownerReferences, id).toBeUndefined();
          continue;
        }
        expect(o.metadata.ownerReferences, id).toEqual([
          {
            apiVersion: 'veloz.io/v1alpha1',
            kind: 'VelozDeployment',
            name: cr.metadata.name,
            uid: `uid-${cr.metadata.name}`,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
    }
  });

  it('leaves no cdk8s bookkeeping (hashed names, metadata.addr labels) in the output', () => {
    for (const [, cr] of SAMPLE_CRS) expect(toYaml(render(cr, CTX))).not.toMatch(/cdk8s|metadata\.addr/);
  });

  it('selects pods with explicit, stable labels that the pod templates carry', () => {
    const objs = render(production(), CTX);
    for (const [name, component] of [
      ['veloz-testnet-engine', 'engine'],
      ['veloz-testnet-gateway', 'gateway'],
    ] as const) {
      const sts = find(objs, 'StatefulSet', name);
      const selector = {
        'app.kubernetes.io/name': 'veloz',
        'app.kubernetes.io/instance': 'veloz-testnet',
        'app.kubernetes.io/component': component,
      };
      expect(sts.spec.selector).toEqual({ matchLabels: selector });
      expect(sts.spec.template.metadata.labels).toMatchObject(selector);
    }
    expect(find(objs, 'Service', 'veloz-testnet').spec.selector).toEqual(
      find(objs, 'StatefulSet', 'veloz-testnet-gateway').spec.selector.matchLabels,
    );
    const engineSelector = find(objs, 'StatefulSet', 'veloz-testnet-engine').spec.selector;
    expect(find(objs, 'Service', 'veloz-testnet-engine').spec.selector).toEqual(engineSelector.matchLabels);
    expect(find(objs, 'PodDisruptionBudget', 'veloz-testnet-engine').spec).toEqual({
      maxUnavailable: 1,
      selector: engineSelector,
    });
    expect(find(objs, 'NetworkPolicy', 'veloz-testnet-engine').spec.podSelector).toEqual(engineSelector);
  });

  const selectors = (objs: KubernetesObject[]) =>
    objs.map((o: Manifest) => [
      o.kind,
      o.metadata.name,
      o.spec?.selector,
      o.spec?.podSelector,
      o.spec?.serviceName,
    ]);

  it.each([
    ['image', (cr: VelozDeployment) => (cr.spec.image = 'registry.example/veloz:9.9.9')],
    ['pairs', (cr: VelozDeployment) => (cr.spec.pairs = 7)],
    ['paused', (cr: VelozDeployment) => (cr.spec.paused = true)],
    ['execution mode', (cr: VelozDeployment) => (cr.spec.execution.mode = 'sim_engine')],
    ['engine resources', (cr: VelozDeployment) => (cr.spec.engine.resources = { requests: { cpu: '4' } })],
    ['WAL size', (cr: VelozDeployment) => (cr.spec.wal.storage.size = '100Gi')],
    ['service type', (cr: VelozDeployment) => (cr.spec.gateway.service.type = 'NodePort')],
    ['monitoring labels', (cr: VelozDeployment) => (cr.spec.monitoring.serviceMonitor.labels = { a: 'b' })],
  ])('keeps every selector when %s changes', (_, change) => {
    const cr = production();
    const before = selectors(render(cr, CTX));
    change(cr);
    expect(selectors(render(cr, CTX))).toEqual(before);
  });

  it('gives the engines a WAL volumeClaimTemplate and keeps the PVCs on scale-down', () => {
    const sts = find(render(production(), CTX), 'StatefulSet', 'veloz-testnet-engine');
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({
      metadata: { name: 'wal' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast-ssd',
        resources: { requests: { storage: '10Gi' } },
      },
    });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(container(sts, 'engine').volumeMounts).toContainEqual({
      name: 'wal',
      mountPath: '/var/lib/veloz/wal',
    });

    const cr = production();
    cr.spec.wal.storage.retainOnDelete = false;
    const deleting = find(render(cr, CTX), 'StatefulSet', 'veloz-testnet-engine');
    expect(deleting.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
  });

  it('hibernates with pairs: 0: no pods, the WAL template and volumes stay, nothing to back up', () => {
    const objs = render(byName('hibernated-hibernated'), CTX);
    for (const name of ['hibernated-engine', 'hibernated-gateway']) {
      expect(find(objs, 'StatefulSet', name).spec.replicas).toBe(0);
    }
    expect(
      find(objs, 'StatefulSet', 'hibernated-engine').spec.volumeClaimTemplates[0].spec.resources,
    ).toEqual({
      requests: { storage: '2Gi' },
    });
    expect(objs.some((o) => o.kind === 'CronJob')).toBe(false);
    expect(find(objs, 'PersistentVolumeClaim', 'hibernated-backups')).toBeDefined();
  });

  it('gives an API token to the engine container only, bound to nothing but the pairs’ Leases', () => {
    for (const [, cr] of SAMPLE_CRS) {
      const objs = render(cr, CTX) as Manifest[];
      const x = cr.metadata?.name ?? '';
      for (const o of objs) {
        const pod = podSpecOf(o);
        if (!pod) continue;
        const isEngine = o.kind === 'StatefulSet' && o.metadata.name === `${x}-engine`;
        expect(pod.serviceAccountName, o.metadata.name).toBe(isEngine ? `${x}-engine` : x);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const mounted = (c.volumeMounts ?? []).some((m: Manifest) => m.name === 'kube-api-access');
          expect(mounted, `${o.metadata.name}/${c.name}`).toBe(isEngine && c.name === 'engine');
        }
      }
      const binding = objs.find((o) => o.kind === 'RoleBinding');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: `${x}-engine`, namespace: 'trading' },
      ]);
      expect(objs.filter((o) => o.kind === 'RoleBinding' || o.kind === 'Role')).toHaveLength(2);
    }
  });

  it('runs every container under the restricted pod security profile', () => {
    for (const [, cr] of SAMPLE_CRS) {
      for (const o of render(cr, CTX) as Manifest[]) {
        const pod = podSpecOf(o);
        if (!pod) continue;
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.automountServiceAccountToken).toBe(false);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          expect(c.securityContext, c.name).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          expect(c.imagePullPolicy, c.name).toBeTruthy();
          expect(c.resources.requests, c.name).toBeDefined();
          // Read-only root: the only writable paths are volumes.
          expect(
            c.volumeMounts.map((m: Manifest) => m.mountPath),
            c.name,
          ).toContain('/tmp');
        }
      }
    }
  });

  it('uses the resource defaults of the seeds', () => {
    const objs = render(quickstart(), CTX);
    expect(container(find(objs, 'StatefulSet', 'quickstart-gateway'), 'gateway').resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    expect(container(find(objs, 'StatefulSet', 'quickstart-engine'), 'engine').resources.requests).toEqual({
      cpu: '1',
      memory: '1Gi',
    });
  });

  it('wires gateway i to engine i through the pod index label', () => {
    const objs = render(production(), CTX);
    const gw = container(find(objs, 'StatefulSet', 'veloz-testnet-gateway'), 'gateway');
    expect(envOf(gw)['POD_INDEX']).toEqual({
      fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" },
    });
    const url = gw.args[gw.args.indexOf('--engine-url') + 1];
    expect(url).toBe('http://veloz-testnet-engine-$(POD_INDEX).veloz-testnet-engine:8080');
    expect(find(objs, 'Service', 'veloz-testnet-engine').spec.clusterIP).toBe('None');
    // What the kubelet makes of $(POD_INDEX) for each pod:
    const perPod = [0, 1, 2].map((i) => url.replace('$(POD_INDEX)', String(i)));
    expect(perPod).toEqual(
      [0, 1, 2].map((i) => `http://veloz-testnet-engine-${i}.veloz-testnet-engine:8080`),
    );
    expect(container(find(objs, 'StatefulSet', 'veloz-testnet-engine'), 'engine').args).toEqual([
      'engine',
      '--port',
      '8080',
    ]);
  });

  it('backs up every pair into the destination', () => {
    const cron = find(render(production(), CTX), 'CronJob', 'veloz-testnet-wal-backup');
    expect(cron.spec.schedule).toBe('*/5 * * * *');
    const containers = cron.spec.jobTemplate.spec.template.spec.containers;
    expect(containers.map((c: Manifest) => c.args.join(' '))).toEqual(
      [0, 1, 2].map(
        (i) =>
          `backup --engine-url http://veloz-testnet-engine-${i}.veloz-testnet-engine:8080 --deployment veloz-testnet --pair ${i} --dest /backups --retention-days 14`,
      ),
    );
    expect(cron.spec.jobTemplate.spec.template.spec.volumes).toContainEqual({
      name: 'backups',
      persistentVolumeClaim: { claimName: 'veloz-testnet-backups' },
    });
  });

  // The command lines and mounts engine/backup/src/backup.integration.test.ts proves by restoring:
  // its backupArgs() (a directory or s3://bucket/prefix, --retention-days 7), the MinIO AWS_*
  // variables, and `veloz restore --from SRC --deployment D --pair N --to DIR [--if-empty]`.
  const backupArgs = (x: string, i: number, dest: string) => [
    'backup',
    '--engine-url',
    names(x).engineUrl(i),
    '--deployment',
    x,
    '--pair',
    String(i),
    '--dest',
    dest,
    '--retention-days',
    '7',
  ];
  const S3 = {
    bucket: 'veloz-backups',
    prefix: 'desks',
    region: 'us-east-1',
    endpoint: 'http://minio.storage:9000',
    credentialsSecretRef: {
      name: 'backup-s3',
      accessKeyIdKey: 'accessKeyId',
      secretAccessKeyKey: 'secretAccessKey',
    },
  };
  const AWS_ENV = [
    { name: 'AWS_REGION', value: 'us-east-1' },
    { name: 'AWS_ENDPOINT_URL_S3', value: 'http://minio.storage:9000' },
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'backup-s3', key: 'accessKeyId' } } },
    {
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: 'backup-s3', key: 'secretAccessKey' } },
    },
  ];
  const TMP = { name: 'tmp', mountPath: '/tmp' };
  const TOKEN = { name: 'engine-token', mountPath: '/var/run/secrets/veloz/engine-token', readOnly: true };
  const TOKEN_ENV = [
    { name: 'VELOZ_ENGINE_TOKEN_BACKUP_FILE', value: '/var/run/secrets/veloz/engine-token/backup' },
  ];
  const TOKEN_VOLUME = {
    name: 'engine-token',
    secret: {
      secretName: 'veloz-testnet-engine-token',
      items: [{ key: 'backup', path: 'backup' }],
      defaultMode: 0o440,
    },
  };
  const TMP_VOLUME = { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } };
  const WAL = { name: 'wal', mountPath: '/var/lib/veloz/wal' };
  const backupPod = (objs: KubernetesObject[], x: string) =>
    find(objs, 'CronJob', names(x).backupCronJob).spec.jobTemplate.spec.template.spec;

  it('runs veloz backup as the backup integration tests do: on the backup volume', () => {
    const cr = production();
    cr.spec.backup.retentionDays = 7;
    const pod = backupPod(render(cr, CTX), 'veloz-testnet');
    expect(pod.containers.map((c: Manifest) => [c.name, c.command, c.args, c.env])).toEqual(
      [0, 1, 2].map((i) => [`backup-${i}`, undefined, backupArgs('veloz-testnet', i, '/backups'), TOKEN_ENV]),
    );
    for (const c of pod.containers) {
      expect(c.volumeMounts).toEqual([TMP, TOKEN, { name: 'backups', mountPath: '/backups' }]);
    }
    expect(pod.volumes).toEqual([
      TMP_VOLUME,
      TOKEN_VOLUME,
      { name: 'backups', persistentVolumeClaim: { claimName: 'veloz-testnet-backups' } },
    ]);
  });

  it('runs veloz backup as the backup integration tests do: in a bucket, with the AWS_* variables', () => {
    const cr = production();
    cr.spec.backup.retentionDays = 7;
    cr.spec.backup.destination = { s3: S3 };
    const pod = backupPod(render(cr, CTX), 'veloz-testnet');
    expect(pod.containers.map((c: Manifest) => [c.name, c.command, c.args, c.env])).toEqual(
      [0, 1, 2].map((i) => [
        `backup-${i}`,
        undefined,
        backupArgs('veloz-testnet', i, 's3://veloz-backups/desks'),
        [...AWS_ENV, ...TOKEN_ENV],
      ]),
    );
    for (const c of pod.containers) expect(c.volumeMounts).toEqual([TMP, TOKEN]);
    expect(pod.volumes).toEqual([TMP_VOLUME, TOKEN_VOLUME]);
  });

  const restoreSources: Array<{
    kind: string;
    change: (cr: VelozDeployment) => void;
    from: string;
    env: unknown[];
    mounts: unknown[];
  }> = [
    {
      kind: 'a path on the backup volume',
      change: (cr) => (cr.spec.restore = { fromBackup: { source: '/backups' } }),
      from: '/backups',
      env: [],
      mounts: [WAL, TMP, { name: 'backups', mountPath: '/backups', readOnly: true }],
    },
    {
      kind: 's3:// with the backup destination’s bucket settings',
      change: (cr) => {
        cr.spec.backup.destination = { s3: S3 };
        cr.spec.restore = { fromBackup: { source: 's3://veloz-backups/desks' } };
      },
      from: 's3://veloz-backups/desks',
      env: AWS_ENV,
      mounts: [WAL, TMP],
    },
    {
      kind: 's3:// with a volume destination (the default AWS chain)',
      change: (cr) => (cr.spec.restore = { fromBackup: { source: 's3://other-bucket/desks' } }),
      from: 's3://other-bucket/desks',
      env: [],
      mounts: [WAL, TMP],
    },
    {
      kind: 'postgres:// (the URI from wal.postgres)',
      change: (cr) => (cr.spec.restore = { fromBackup: { source: 'postgres://' } }),
      from: 'postgres://',
      env: [],
      mounts: [WAL, TMP, { name: 'postgres', mountPath: '/var/run/secrets/veloz/postgres', readOnly: true }],
    },
  ];

  it.each(restoreSources)(
    'restores from $kind with the command line the backup integration tests run',
    ({ change, from, env, mounts }) => {
      const cr = production();
      change(cr);
      const pod = find(render(cr, CTX), 'StatefulSet', 'veloz-testnet-engine').spec.template.spec;
      expect(pod.initContainers).toHaveLength(1);
      const init = pod.initContainers[0];
      expect(init.command).toBeUndefined();
      expect([init.name, ...init.args].join(' ')).toBe(
        `restore restore --from ${from} --deployment veloz-testnet --pair $(POD_INDEX) --to /var/lib/veloz/wal --if-empty`,
      );
      expect(init.env).toEqual([
        {
          name: 'POD_INDEX',
          valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
        },
        ...env,
      ]);
      expect(init.volumeMounts).toEqual(mounts);
      // Every mount has its volume in the pod.
      const volumes = pod.volumes.map((v: Manifest) => v.name);
      for (const m of init.volumeMounts.filter((x: Manifest) => x.name !== 'wal'))
        expect(volumes).toContain(m.name);
    },
  );

  it('restores another deployment’s backups with --source-deployment, and a fixed pair', () => {
    const cr = production();
    cr.spec.restore = { fromBackup: { source: '/backups', deployment: 'veloz-prod', pair: 2 } };
    const init = find(render(cr, CTX), 'StatefulSet', 'veloz-testnet-engine').spec.template.spec
      .initContainers[0];
    expect(init.args).toEqual([
      'restore',
      '--from',
      '/backups',
      '--deployment',
      'veloz-testnet',
      '--source-deployment',
      'veloz-prod',
      '--pair',
      '2',
      '--to',
      '/var/lib/veloz/wal',
      '--if-empty',
    ]);
  });

  it('restores each engine from its own source pair with pairSources', () => {
    const cr = production();
    cr.spec.restore = { fromBackup: { source: '/backups', backupPairs: 3, pairSources: [2, 0, 1] } };
    const init = find(render(cr, CTX), 'StatefulSet', 'veloz-testnet-engine').spec.template.spec
      .initContainers[0];
    expect(init.args.slice(init.args.indexOf('--pair'), init.args.indexOf('--to'))).toEqual([
      '--pair',
      '$(POD_INDEX)',
      '--pair-sources',
      '2,0,1',
    ]);
  });

  it('names the deployment to the engine explicitly (VELOZ_DEPLOYMENT_NAME), not through its host name', () => {
    for (const [, cr] of SAMPLE_CRS) {
      const x = cr.metadata.name!;
      const engine = container(find(render(cr, CTX), 'StatefulSet', names(x).engine), 'engine');
      expect(envOf(engine)['VELOZ_DEPLOYMENT_NAME'], x).toBe(x);
      expect(loadConfig({ VELOZ_DEPLOYMENT_NAME: envOf(engine)['VELOZ_DEPLOYMENT_NAME'] })).toMatchObject({
        deploymentName: x,
      });
    }
  });

  it('passes credentials only as files of mounted Secrets', () => {
    const objs = render(production(), CTX);
    const engine = container(find(objs, 'StatefulSet', 'veloz-testnet-engine'), 'engine');
    expect(envOf(engine)).toMatchObject({
      VELOZ_BINANCE_API_KEY_FILE: '/var/run/secrets/veloz/binance/apiKey',
      VELOZ_BINANCE_API_SECRET_FILE: '/var/run/secrets/veloz/binance/apiSecret',
      VELOZ_ENGINE_TOKEN_TRADING_FILE: '/var/run/secrets/veloz/engine-token/trading',
      VELOZ_ENGINE_TOKEN_ADMIN_FILE: '/var/run/secrets/veloz/engine-token/admin',
      VELOZ_ENGINE_TOKEN_BACKUP_FILE: '/var/run/secrets/veloz/engine-token/backup',
    });
    const gw = container(find(objs, 'StatefulSet', 'veloz-testnet-gateway'), 'gateway');
    expect(envOf(gw)).toMatchObject({
      VELOZ_API_KEY_FILE: '/var/run/secrets/veloz/api-key/apiKey',
      VELOZ_ENGINE_TOKEN_TRADING_FILE: '/var/run/secrets/veloz/engine-token/trading',
    });
    // The gateway holds the trading token only: its pods never see the admin or backup one.
    expect(find(objs, 'StatefulSet', 'veloz-testnet-gateway').spec.template.spec.volumes).toContainEqual({
      name: 'engine-token',
      secret: {
        secretName: 'veloz-testnet-engine-token',
        items: [{ key: 'trading', path: 'trading' }],
        defaultMode: 0o440,
      },
    });
    for (const o of objs as Manifest[]) {
      const pod = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec.template.spec;
      for (const c of pod?.containers ?? []) {
        for (const e of c.env ?? []) {
          // Only the S3 SDK's own variables still come from secretKeyRefs (it reads no files).
          if (e.valueFrom?.secretKeyRef) expect(e.name, `${c.name} ${e.name}`).toMatch(/^AWS_/);
        }
      }
    }
    expect(find(objs, 'StatefulSet', 'veloz-testnet-engine').spec.template.spec.volumes).toContainEqual({
      name: 'postgres',
      secret: { secretName: 'veloz-wal-postgres', items: [{ key: 'uri', path: 'uri' }], defaultMode: 0o440 },
    });
  });

  it('never puts a Secret value in a ConfigMap or an annotation', () => {
    const objs = render(production(), CTX);
    const secret = find(objs, 'Secret', 'veloz-testnet-gateway-api-key');
    expect(Buffer.from(secret.data.apiKey, 'base64').toString()).toBe(API_KEY);
    for (const o of objs.filter((x) => x.kind !== 'Secret')) {
      const text = JSON.stringify(o);
      expect(text, `${o.kind}/${o.metadata.name}`).not.toContain(API_KEY);
      for (const t of Object.values(CTX.engineTokens!)) expect(text).not.toContain(t);
      expect(text).not.toContain(secret.data.apiKey);
    }
  });

  it('uses a Secret the user brings instead of generating one', () => {
    const cr = production();
    cr.spec.gateway.apiKeySecretRef = { name: 'my-api-key', key: 'token' };
    const objs = render(cr, { ...CTX, apiKey: undefined });
    expect(objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([
      'veloz-testnet-engine-token',
    ]);
    const gw = find(objs, 'StatefulSet', 'veloz-testnet-gateway').spec.template.spec;
    expect(gw.volumes).toContainEqual({
      name: 'api-key',
      secret: { secretName: 'my-api-key', items: [{ key: 'token', path: 'apiKey' }], defaultMode: 0o440 },
    });
    expect(() => render(production(), { ...CTX, apiKey: undefined })).toThrow(/ctx.apiKey/);
  });

  it('writes only valid engine settings to the ConfigMap, named as the engine reads them', () => {
    for (const [, cr] of SAMPLE_CRS) {
      const cm = find(render(cr, CTX), 'ConfigMap', names(cr.metadata.name!).config);
      // Credentials reach the engine from Secrets (secretKeyRef env), never from the ConfigMap.
      expect(() => loadConfig({ ...cm.data, ...CREDENTIALS_FROM_SECRETS })).not.toThrow();
      expect(Object.keys(cm.data).every((k) => k.startsWith('VELOZ_'))).toBe(true);
      expect(Object.keys(cm.data)).not.toContain('VELOZ_API_KEY');
      expect(Object.keys(cm.data)).not.toContain('VELOZ_BINANCE_API_SECRET');
    }
    const cm = find(render(production(), CTX), 'ConfigMap', 'veloz-testnet-config');
    expect(loadConfig({ ...cm.data, ...CREDENTIALS_FROM_SECRETS })).toMatchObject({
      executionMode: 'binance_testnet_spot',
      marketSymbol: 'BTCUSDT',
      symbols: ['ETHUSDT', 'BNBUSDT'],
      walDir: '/var/lib/veloz/wal',
      walMaxSize: 134217728,
      // The desk's 2 over its 3 pairs (ADR 0017).
      maxPosition: '0.66666666',
    });
  });

  it('splits the desk-wide limits across the pairs, and across a share group when the operator says so', () => {
    const cr = production();
    const risk = (objs: KubernetesObject[]) => {
      const data = find(objs, 'ConfigMap', 'veloz-testnet-config').data as Record<string, string>;
      return [
        'VELOZ_RISK_MAX_POSITION',
        'VELOZ_RISK_MAX_OPEN_ORDERS',
        'VELOZ_RISK_MAX_ORDER_NOTIONAL',
        'VELOZ_ORDER_RATE_LIMIT',
        'VELOZ_RISK_MAX_ORDER_QUANTITY',
      ].map((k) => data[k]);
    };
    expect(cr.spec.pairs).toBe(3);
    expect(cr.spec.risk).toMatchObject({ maxPosition: '2', maxOpenOrders: 200, maxOrderNotional: '25000' });
    expect(cr.spec.execution.orderRateLimit).toBe(20);
    // maxOrderQuantity bounds one order, whichever engine sends it: it is not split.
    expect(risk(render(cr, CTX))).toEqual(['0.66666666', '66', '8333.33333333', '6', '0.5']);
    // Re-split on scale.
    cr.spec.pairs = 4;
    expect(risk(render(cr, CTX))).toEqual(['0.5', '50', '6250', '5', '0.5']);
    // A share group of 8 pairs with a smaller budget (what the operator computes).
    const budget = { pairs: 8, risk: { maxPosition: '1', maxOpenOrders: 80 }, orderRateLimit: 16 };
    expect(risk(render(cr, { ...CTX, riskBudget: budget }))).toEqual(['0.125', '10', '', '2', '0.5']);
  });

  it('sizes the JavaScript heap from engine.memoryPoolSize', () => {
    const engine = container(
      find(render(production(), CTX), 'StatefulSet', 'veloz-testnet-engine'),
      'engine',
    );
    expect(envOf(engine)['NODE_OPTIONS']).toBe('--max-old-space-size=2048');
  });

  const checksums = (objs: KubernetesObject[]) =>
    ['engine', 'gateway'].map(
      (c) =>
        (
          find(objs, 'StatefulSet', `veloz-testnet-${c}`).spec.template.metadata.annotations as Record<
            string,
            string
          >
        )[CONFIG_CHECKSUM_ANNOTATION],
    );

  it.each([
    ['risk limit', (cr: VelozDeployment) => (cr.spec.risk.maxPosition = '3'), true],
    ['WAL sync', (cr: VelozDeployment) => (cr.spec.wal.sync = false), true],
    // paused freezes the operator; it is not an engine setting.
    ['paused', (cr: VelozDeployment) => (cr.spec.paused = true), false],
    // Each engine's share of the desk-wide limits changes with the number of pairs (ADR 0017).
    ['pairs', (cr: VelozDeployment) => (cr.spec.pairs = 5), true],
    ['image', (cr: VelozDeployment) => (cr.spec.image = 'registry.example/veloz:2'), false],
    ['gateway Service', (cr: VelozDeployment) => (cr.spec.gateway.service.port = 8443), false],
    ['backup schedule', (cr: VelozDeployment) => (cr.spec.backup.schedule = '@hourly'), false],
  ])('changes the config checksum of both pod templates when %s changes: %s', (_, change, changes) => {
    const cr = production();
    const before = checksums(render(cr, CTX));
    expect(before[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(before[1]).toBe(before[0]);
    change(cr);
    const after = checksums(render(cr, CTX));
    if (changes) expect(after).not.toEqual(before);
    else expect(after).toEqual(before);
  });

  it('rolls the pods when a referenced Secret changes (through ctx.secretsHash)', () => {
    const sts = find(
      render(production(), { ...CTX, secretsHash: 'sha256:new' }),
      'StatefulSet',
      'veloz-testnet-engine',
    );
    expect(sts.spec.template.metadata.annotations[SECRETS_CHECKSUM_ANNOTATION]).toBe('sha256:new');
  });

  it('renders monitoring only when the API is served and the spec enables it', () => {
    const kinds = (ctx: RenderContext, change?: (cr: VelozDeployment) => void) => {
      const cr = production();
      change?.(cr);
      return render(cr, ctx)
        .map((o) => o.kind)
        .filter((k) => k === 'ServiceMonitor' || k === 'PrometheusRule');
    };
    expect(kinds(CTX)).toEqual(['ServiceMonitor', 'PrometheusRule']);
    expect(kinds({ ...CTX, monitoringApiServed: false })).toEqual([]);
    expect(kinds(CTX, (cr) => (cr.spec.monitoring.prometheusRule.enabled = false))).toEqual([
      'ServiceMonitor',
    ]);
    const sm = find(render(production(), CTX), 'ServiceMonitor', 'veloz-testnet');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it('alerts on the engine metrics it exports', () => {
    const rule = find(render(production(), CTX), 'PrometheusRule', 'veloz-testnet');
    const rules: Array<{ alert: string; expr: string }> = rule.spec.groups[0].rules;
    const metrics = ['engine/core/src/metrics/engine-metrics.ts', 'engine/core/src/exchange/metrics.ts']
      .map((f) => readFileSync(join(import.meta.dirname, '..', '..', '..', f), 'utf8'))
      .join('\n');
    for (const r of rules) {
      for (const m of r.expr.match(/veloz_[a-z_]+/g) ?? []) {
        expect(metrics, `${r.alert} uses ${m}`).toContain(`'${m.replace(/_(bucket|count|sum)$/, '')}'`);
      }
    }
    expect(rules.find((r) => r.alert === 'VelozWALCorruption')!.expr).toContain(
      'veloz_wal_corrupted_entries',
    );
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'VelozHighOrderLatency',
        'VelozWebSocketDisconnects',
        'VelozHighErrorRate',
        'VelozWALCorruption',
        'VelozBackupFailed',
        'VelozBackupStale',
        'VelozPairNotReady',
        'VelozExchangeOutOfSync',
        'VelozStrategyHalted',
      ]),
    );
  });

  it('alerts on WAL shipping only when the engines ship to PostgreSQL', () => {
    const alerts = (cr: VelozDeployment) =>
      (find(render(cr, CTX), 'PrometheusRule', 'veloz-testnet').spec.groups[0].rules as Manifest[]).filter(
        (r) => r.alert.startsWith('VelozWALShipping'),
      );
    const shipping = alerts(production());
    expect(shipping.map((r) => [r.alert, r.expr, r.for, r.annotations.runbook_url])).toEqual([
      [
        'VelozWALShippingLag',
        'veloz_wal_ship_lag_entries{namespace="trading", pod=~"veloz-testnet-engine-[0-9]+"} > 10000',
        '10m',
        'https://github.com/veloz/veloz/blob/main/docs/runbooks/alerts.md#velozwalshippinglag',
      ],
      [
        'VelozWALShippingErrors',
        'sum by (pod, reason) (increase(veloz_wal_ship_errors_total{namespace="trading", pod=~"veloz-testnet-engine-[0-9]+"}[15m])) > 0',
        '0m',
        'https://github.com/veloz/veloz/blob/main/docs/runbooks/alerts.md#velozwalshippingerrors',
      ],
    ]);
    const without = production();
    delete without.spec.wal.postgres;
    expect(alerts(without)).toEqual([]);
  });

  it('restores an empty WAL before the engine starts when asked to', () => {
    const cr = production();
    cr.spec.restore = {
      fromBackup: { source: '/backups/veloz-testnet', upToTimestamp: '2025-01-01T00:00:00Z' },
    };
    const pod = find(render(cr, CTX), 'StatefulSet', 'veloz-testnet-engine').spec.template.spec;
    expect(pod.initContainers).toHaveLength(1);
    expect(pod.initContainers[0].args).toEqual([
      'restore',
      '--from',
      '/backups/veloz-testnet',
      '--deployment',
      'veloz-testnet',
      '--pair',
      '$(POD_INDEX)',
      '--to',
      '/var/lib/veloz/wal',
      '--up-to-time',
      '2025-01-01T00:00:00Z',
      '--if-empty',
    ]);
    expect(pod.volumes).toContainEqual({
      name: 'backups',
      persistentVolumeClaim: { claimName: 'veloz-testnet-backups', readOnly: true },
    });
  });

  it('applies schema defaults itself, so a CR straight from a file renders like a stored one', () => {
    const raw = {
      apiVersion: 'veloz.io/v1alpha1',
      kind: 'VelozDeployment',
      metadata: { name: 'raw' },
      spec: {},
    };
    const stored = applyDefaults(VELOZ_DEPLOYMENT.schema, raw);
    expect(toYaml(render(raw as VelozDeployment, CTX))).toBe(toYaml(render(stored as VelozDeployment, CTX)));
  });
});
