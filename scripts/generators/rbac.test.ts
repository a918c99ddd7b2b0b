// The RBAC source against what the code does: every kind render() makes can be applied and pruned,
// every kind the operator watches can be listed and watched, and nothing more is granted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synth } from '@veloz/render/synth';
import { RESOURCES } from '@veloz/operator/kube/resources';
import { WATCHED } from '@veloz/operator/manager';
import { OWNED } from '@veloz/operator/reconcilers/deployment';
import { OPERATOR_RULES, USER_RULES, rbacDoc } from './rbac.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function verbsFor(
  group: string,
  resource: string,
  scope: 'watched' | 'lease' | 'accounts' | 'nodes',
): Set<string> {
  return new Set(
    OPERATOR_RULES.filter(
      (r) => r.scope === scope && r.apiGroups.includes(group) && r.resources.includes(resource),
    ).flatMap((r) => r.verbs),
  );
}

interface Rendered {
  apiVersion: string;
  kind: string;
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
}

/** Every object render() produces for the samples (production.yaml turns every option on). */
function renderedObjects(): Rendered[] {
  return ['production.yaml', 'quickstart.yaml', 'hibernated.yaml'].flatMap((file) =>
    parseAllDocuments(
      synth(readFileSync(join(ROOT, 'crds', 'samples', file), 'utf8'), {
        monitoringApiServed: true,
        image: 'veloz:test',
        source: file,
      }),
    )
      .map((doc) => doc.toJS() as Rendered | null)
      .filter((o): o is Rendered => !!o),
  );
}

/** Every kind render() produces for the samples. */
function renderedKinds(): Array<{ group: string; plural: string }> {
  const out = new Map<string, { group: string; plural: string }>();
  for (const o of renderedObjects()) {
    const res = Object.values(RESOURCES).find(
      (r) => (r.group ? `${r.group}/${r.version}` : r.version) === o.apiVersion && r.kind === o.kind,
    );
    if (!res)
      throw new Error(`render() makes ${o.apiVersion} ${o.kind}, unknown to operator/src/kube/resources.ts`);
    out.set(res.plural, { group: res.group, plural: res.plural });
  }
  return [...out.values()];
}

describe('operator RBAC', () => {
  it('lets the operator apply and prune everything render() makes', () => {
    const kinds = renderedKinds();
    expect(kinds.map((k) => k.plural)).toEqual(
      expect.arrayContaining(['statefulsets', 'cronjobs', 'prometheusrules']),
    );
    const pruned = new Set(OWNED.map((r) => r.plural));
    for (const k of kinds) {
      const verbs = verbsFor(k.group, k.plural, 'watched');
      // Server-side apply of a new object needs create as well as patch.
      for (const v of ['get', 'list', 'watch', 'create', 'patch'])
        expect(verbs, `${v} ${k.plural}`).toContain(v);
      // Delete exactly where the operator prunes: never a claim (the backups volume stays).
      expect(verbs.has('delete'), `delete ${k.plural}`).toBe(pruned.has(k.plural));
    }
    expect(pruned.has('persistentvolumeclaims')).toBe(false);
    // Children's owner references block their owner's deletion: that needs the finalizers right.
    expect(verbsFor('veloz.io', 'velozdeployments/finalizers', 'watched')).toContain('update');
  });

  it('lets the informers list and watch every kind the operator watches', () => {
    // What the reconcilers declare they watch (their Watches), the Prometheus Operator's kinds included.
    expect(WATCHED.length).toBeGreaterThan(10);
    for (const r of WATCHED) {
      // Cluster-scoped kinds (Nodes) have their own grant (rbac.nodes).
      const verbs = verbsFor(r.group, r.plural, r.namespaced ? 'watched' : 'nodes');
      expect(verbs, r.plural).toContain('list');
      expect(verbs, r.plural).toContain('watch');
    }
    for (const cr of ['velozdeployments', 'velozstrategies']) {
      expect(verbsFor('veloz.io', cr, 'watched')).toContain('patch');
      expect(verbsFor('veloz.io', `${cr}/status`, 'watched')).toContain('patch');
    }
  });

  it('grants events, the pod proxy and the Lease exactly as used', () => {
    expect([...verbsFor('', 'events', 'watched')].sort()).toEqual(['create', 'patch']);
    // engine-access.ts: GET, PUT (update), DELETE through /pods/NAME:8080/proxy/.
    expect(verbsFor('', 'pods/proxy', 'watched')).toEqual(new Set(['get', 'create', 'update', 'delete']));
    expect(verbsFor('', 'pods', 'watched')).toEqual(new Set(['get', 'list', 'watch']));
    expect(verbsFor('batch', 'jobs', 'watched')).toEqual(new Set(['get', 'list', 'watch']));
    expect([...verbsFor('coordination.k8s.io', 'leases', 'lease')].sort()).toEqual([
      'create',
      'get',
      'update',
    ]);
    // Leader election's Lease, one Lease per exchange account in the same namespace (ADR 0017),
    // and in the watched namespaces only what the engines' Role grants (next test).
    expect(new Set(OPERATOR_RULES.filter((r) => r.resources.includes('leases')).map((r) => r.scope))).toEqual(
      new Set(['lease', 'accounts', 'watched']),
    );
    expect([...verbsFor('coordination.k8s.io', 'leases', 'accounts')].sort()).toEqual([
      'create',
      'delete',
      'get',
      'update',
    ]);
  });

  it('grants RBAC objects only for the Role render emits, with exactly its verbs', () => {
    // The only Role render makes is the engines' Lease Role (ADR 0018), and it is bound, not escalated.
    const roles = renderedObjects().filter((o) => o.kind === 'Role');
    expect(roles.length).toBeGreaterThan(0);
    const roleRules = roles.flatMap((o) => o.rules ?? []);
    for (const rule of roleRules) {
      expect(rule.apiGroups).toEqual(['coordination.k8s.io']);
      expect(rule.resources).toEqual(['leases']);
    }
    // The API server's escalation check: the operator may create and bind that Role only while it
    // holds every verb of it in the desk's namespace, and it holds no Lease verb beyond those.
    expect([...verbsFor('coordination.k8s.io', 'leases', 'watched')].sort()).toEqual(
      [...new Set(roleRules.flatMap((r) => r.verbs))].sort(),
    );
    expect(renderedObjects().some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(
      false,
    );
    const rbac = OPERATOR_RULES.filter((r) => r.apiGroups.includes('rbac.authorization.k8s.io'));
    expect(rbac.map((r) => [r.scope, [...r.resources].sort()])).toEqual([
      ['watched', ['rolebindings', 'roles']],
    ]);
    for (const r of OPERATOR_RULES)
      for (const v of ['escalate', 'bind', 'impersonate']) expect(r.verbs).not.toContain(v);
  });

  it('never grants wildcards, update of whole objects, or anything outside the operator’s needs', () => {
    const granted = new Set(OPERATOR_RULES.flatMap((r) => r.resources));
    for (const forbidden of [
      '*',
      'namespaces',
      'customresourcedefinitions',
      'clusterroles',
      'clusterrolebindings',
      'serviceaccounts/token',
      'pods/exec',
    ])
      expect(granted).not.toContain(forbidden);
    // Nodes are only read, and only under their own scope (rbac.nodes).
    expect(OPERATOR_RULES.filter((r) => r.resources.includes('nodes'))).toEqual([
      expect.objectContaining({
        apiGroups: [''],
        resources: ['nodes'],
        verbs: ['get', 'list', 'watch'],
        scope: 'nodes',
      }),
    ]);
    for (const r of OPERATOR_RULES) {
      expect(r.verbs).not.toContain('*');
      // Update only where nothing else does: the Lease, the engine proxy, and the owner's
      // finalizers subresource (which writes no object, it only permits blockOwnerDeletion).
      if (!r.resources.some((x) => ['leases', 'pods/proxy', 'velozdeployments/finalizers'].includes(x)))
        expect(r.verbs).not.toContain('update');
    }
  });

  it('documents why every rule exists', () => {
    for (const r of [...OPERATOR_RULES, ...Object.values(USER_RULES)])
      expect(r.why.length).toBeGreaterThan(20);
    const doc = rbacDoc();
    for (const r of OPERATOR_RULES) expect(doc).toContain(r.why);
  });
});
