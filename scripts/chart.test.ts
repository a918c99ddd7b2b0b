// The Helm chart: lint, golden renders of the three value sets, what each render must hold, and
// values.schema.json rejecting bad values. Needs the pinned helm (hack/build-k8s.sh helm).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CRDS, GROUP, crdObject } from '@veloz/api/crd/crds';
import { DEFAULT_IMAGE, VERSION } from '@veloz/api/image';
import { DEFAULT_RUNBOOK_BASE_URL, RUNBOOK_BASE_URL_PATTERN } from '@veloz/api/runbooks';
import { CHART, ROOT, VALUE_SETS, helmTemplate, run, toolsDir } from '@veloz/testing/chart-helm';

const tools = toolsDir();
// Rendered objects are read loosely, like parsed JSON answers elsewhere in the tests.
const docs = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .filter((d) => d !== null);
type Rendered = ReturnType<typeof docs>;
const find = (objs: Rendered, kind: string, name?: string): Rendered =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const chartYaml = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));

describe('chart metadata (no helm needed)', () => {
  it('versions the chart, the image and the operator default alike', () => {
    expect(chartYaml.appVersion).toBe(pkg.version);
    expect(chartYaml.version).toBe(pkg.version);
    // One default image (@veloz/api/image): the operator's and synth's, and the chart's values.
    expect(VERSION).toBe(pkg.version);
    expect(values.image.tag).toBe('');
    expect(`${values.image.repository}:${chartYaml.appVersion}`).toBe(DEFAULT_IMAGE);
  });

  it('defaults the runbook base URL of the operator’s and every desk’s alerts to @veloz/api’s', () => {
    expect(values.prometheusRule.runbookBaseUrl).toBe(DEFAULT_RUNBOOK_BASE_URL);
    expect(schema.properties.prometheusRule.properties.runbookBaseUrl.pattern).toBe(RUNBOOK_BASE_URL_PATTERN);
  });

  it('values.yaml satisfies values.schema.json, and the schema rejects bad values', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    const bad = [
      { ...values, workers: 0 },
      { ...values, logLevel: 'verbose' },
      { ...values, walStatusIntervalSeconds: -1 },
      { ...values, apiDiscoveryIntervalSeconds: 1 },
      { ...values, watchNamespaces: ['Not_A_Namespace'] },
      { ...values, leaderElection: { ...values.leaderElection, enabled: false }, replicaCount: 2 },
      { ...values, image: { ...values.image, digest: 'latest' } },
      { ...values, prometheusRule: { ...values.prometheusRule, runbookBaseUrl: 'wiki/runbooks' } },
      { ...values, unknownKey: true },
    ];
    for (const v of bad) expect(validate(v), JSON.stringify(v)).toBe(false);
  });
});

describe.skipIf(!tools)(
  tools ? 'helm chart' : 'helm chart: SKIPPED, helm is not built (hack/build-k8s.sh helm)',
  () => {
    const helm = join(tools ?? '', 'helm');

    it('passes helm lint with every value set', () => {
      for (const flags of Object.values(VALUE_SETS)) {
        const res = run(helm, ['lint', '--strict', CHART, ...flags]);
        expect(res.code, res.stdout + res.stderr).toBe(0);
      }
    });

    it.each(Object.keys(VALUE_SETS))('renders %s values as the golden file', async (name) => {
      await expect(helmTemplate(tools!, VALUE_SETS[name]!)).toMatchFileSnapshot(
        join('__snapshots__', 'chart', `${name}.yaml`),
      );
    });

    it('fails at install time on values the schema rejects', () => {
      for (const set of ['workers=0', 'logLevel=verbose', 'watchNamespaces={Bad_NS}', 'nope=1']) {
        const res = run(helm, ['template', 'v', CHART, '--set', set]);
        expect(res.code, set).not.toBe(0);
        expect(res.stderr).toMatch(/values don't meet the specifications of the schema|at '/);
      }
    });

    it('runs a restricted, leader-elected, spread Deployment whose image is also the engine default', () => {
      const objs = docs(helmTemplate(tools!, []));
      const [dep] = find(objs, 'Deployment');
      expect(dep!.spec.replicas).toBe(2);
      const pod = dep!.spec.template.spec;
      const [c] = pod.containers;
      expect(c.image).toBe(DEFAULT_IMAGE);
      expect(c.args).toEqual(
        expect.arrayContaining([
          'operator',
          '--leader-elect',
          '--lease-namespace=veloz-system',
          '--lease-name=veloz-operator',
          `--image=${DEFAULT_IMAGE}`,
          `--runbook-base-url=${DEFAULT_RUNBOOK_BASE_URL}`,
          '--metrics-port=8081',
        ]),
      );
      expect(c.args.some((a: string) => a.startsWith('--namespaces'))).toBe(false);
      // Pod Security Standard "restricted".
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      expect(c.env.map((e: { name: string }) => e.name)).toEqual([
        'POD_NAME',
        'POD_NAMESPACE',
        'NODE_OPTIONS',
      ]);
      // The engines' NetworkPolicy admits the operator by this label (cdk8s/render/src/render.ts).
      expect(dep!.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('veloz-operator');
    });

    it('pins the image by digest when given one', () => {
      const digest = `sha256:${'a'.repeat(64)}`;
      const [dep] = find(docs(helmTemplate(tools!, ['--set', `image.digest=${digest}`])), 'Deployment');
      const [c] = dep!.spec.template.spec.containers;
      expect(c.image).toBe(`veloz@${digest}`);
      expect(c.args).toContain(`--image=veloz@${digest}`);
    });

    it('installs the CRDs from crds/ with keep annotations, or not at all', () => {
      const objs = docs(helmTemplate(tools!, []));
      const crds = find(objs, 'CustomResourceDefinition');
      expect(crds.map((c) => c.metadata.name).sort()).toEqual(CRDS.map((d) => `${d.plural}.${GROUP}`).sort());
      for (const def of CRDS) {
        const rendered = crds.find((c) => c.metadata.name === `${def.plural}.${GROUP}`)!;
        expect(rendered.metadata.annotations).toEqual({
          'helm.sh/resource-policy': 'keep',
          'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
        });
        expect(rendered.spec).toEqual((crdObject(def) as { spec: unknown }).spec);
        const onDisk = parse(readFileSync(join(ROOT, 'crds', `${GROUP}_${def.plural}.yaml`), 'utf8'));
        expect(rendered.spec).toEqual(onDisk.spec);
      }
      expect(
        find(docs(helmTemplate(tools!, ['--set', 'crds.install=false'])), 'CustomResourceDefinition'),
      ).toEqual([]);
    });

    it('cluster-wide mode: one ClusterRole bound to the ServiceAccount, a Lease Role', () => {
      const objs = docs(helmTemplate(tools!, []));
      const operatorRole = find(objs, 'ClusterRole', 'veloz-system-veloz-operator')[0]!;
      expect(find(objs, 'ClusterRoleBinding')[0]!.roleRef.name).toBe(operatorRole.metadata.name);
      expect(find(objs, 'ClusterRoleBinding')[0]!.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'veloz-operator', namespace: 'veloz-system' },
      ]);
      const [accounts, lease] = find(objs, 'Role');
      // The exchange account Leases and their hash key (ADR 0017), beside the operator's Lease.
      expect(accounts!.metadata.name).toBe('veloz-operator-accounts');
      expect(accounts!.metadata.namespace).toBe('veloz-system');
      expect(accounts!.rules.flatMap((r: { resources: string[] }) => r.resources)).toEqual([
        'leases',
        'secrets',
        'secrets',
      ]);
      expect(accounts!.rules[2].resourceNames).toEqual(['veloz-account-hash-key']);
      expect(lease!.metadata.namespace).toBe('veloz-system');
      expect(lease!.rules.flatMap((r: { resources: string[] }) => r.resources)).toEqual(['leases', 'leases']);
      expect(lease!.rules[1].resourceNames).toEqual(['veloz-operator']);
      // No wildcard anywhere.
      for (const r of [...find(objs, 'ClusterRole'), ...find(objs, 'Role')].flatMap((x) => x.rules)) {
        expect(JSON.stringify(r)).not.toContain('"*"');
      }
    });

    it('namespaced mode: a Role per watched namespace; cluster-wide, only read access to Nodes', () => {
      const objs = docs(helmTemplate(tools!, VALUE_SETS['namespaced']!));
      // Nodes are cluster-scoped: their own ClusterRole, with that one rule (rbac.nodes).
      expect(find(objs, 'ClusterRoleBinding').map((b) => b.roleRef.name)).toEqual([
        'veloz-system-veloz-operator-nodes',
      ]);
      expect(find(objs, 'ClusterRoleBinding')[0]!.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'veloz-operator', namespace: 'veloz-system' },
      ]);
      expect(find(objs, 'ClusterRole', 'veloz-system-veloz-operator-nodes')[0]!.rules).toEqual([
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      ]);
      // Beside it only the aggregated user roles are cluster-scoped.
      expect(find(objs, 'ClusterRole').map((r) => r.metadata.name)).toEqual([
        'veloz-system-veloz-operator-nodes',
        'veloz-system-veloz-operator-view',
        'veloz-system-veloz-operator-edit',
      ]);
      const roles = find(objs, 'Role').map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
      expect(roles).toEqual([
        'desk-a/veloz-operator',
        'desk-b/veloz-operator',
        'veloz-system/veloz-operator-accounts',
        'veloz-system/veloz-operator-leader-election',
      ]);
      const bindings = find(objs, 'RoleBinding').map((r) => `${r.metadata.namespace}/${r.roleRef.name}`);
      expect(bindings).toEqual(roles);
      const [dep] = find(objs, 'Deployment');
      expect(dep!.spec.template.spec.containers[0].args).toContain('--namespaces=desk-a,desk-b');
      const noClusterRoles = docs(
        helmTemplate(tools!, [
          ...VALUE_SETS['namespaced']!,
          '--set',
          'rbac.aggregateToDefaultRoles=false',
          '--set',
          'rbac.nodes=false',
        ]),
      );
      expect(find(noClusterRoles, 'ClusterRole')).toEqual([]);
      expect(find(noClusterRoles, 'ClusterRoleBinding')).toEqual([]);
    });

    it('rbac.nodes: Nodes read-only in the operator ClusterRole; false leaves them out', () => {
      const nodeRules = (values: string[]) =>
        find(
          docs(helmTemplate(tools!, values)),
          'ClusterRole',
          'veloz-system-veloz-operator',
        )[0]!.rules.filter((r: { resources?: string[] }) => !!r.resources?.includes('nodes'));
      expect(nodeRules([])).toEqual([
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      ]);
      expect(nodeRules(['--set', 'rbac.nodes=false'])).toEqual([]);
    });

    it('monitoring: ServiceMonitor on the metrics Service, PrometheusRule, one dashboard ConfigMap each', () => {
      const objs = docs(helmTemplate(tools!, VALUE_SETS['monitoring']!));
      const [svc] = find(objs, 'Service');
      const [sm] = find(objs, 'ServiceMonitor');
      expect(sm!.metadata.labels!['release']).toBe('kube-prometheus-stack');
      expect(sm!.spec.selector.matchLabels).toEqual(svc!.spec.selector);
      expect(sm!.spec.endpoints[0].port).toBe(svc!.spec.ports[0].name);
      const [rule] = find(objs, 'PrometheusRule');
      const rules = rule!.spec.groups[0].rules as Array<{
        expr: string;
        annotations: Record<string, string>;
      }>;
      for (const r of rules) {
        expect(r.expr).toContain('job="veloz-operator-metrics", namespace="veloz-system"');
        expect(r.annotations['runbook_url']).toMatch(/docs\/runbooks\/alerts\.md#velozoperator/);
      }
      // Prometheus' own templates survive Helm.
      expect(JSON.stringify(rules)).toContain('{{ $value');
      const cms = find(objs, 'ConfigMap');
      expect(cms.map((c) => c.metadata.name).sort()).toEqual([
        'veloz-operator-dashboard-operator',
        'veloz-operator-dashboard-system',
        'veloz-operator-dashboard-trading',
      ]);
      for (const cm of cms) {
        expect(cm.metadata.labels!['grafana_dashboard']).toBe('1');
        const [key] = Object.keys(cm['data']);
        expect(JSON.parse(cm['data'][key!]).uid).toMatch(/^veloz-/);
      }
    });
  },
);
