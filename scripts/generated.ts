// Every generated file and its generator: `npm run gen` writes them, a test fails when one is stale.
import { apiReference } from './generators/api-reference.ts';
import { argocdFiles } from './generators/argocd.ts';
import { chartCrdFiles } from './generators/chart-crds.ts';
import { configurationDoc } from './generators/configuration-doc.ts';
import { crdFiles } from './generators/crds.ts';
import { crdTypes } from './generators/crd-types.ts';
import { dashboardFiles } from './generators/dashboards.ts';
import { exchangeErrorsDoc } from './generators/exchange-errors-doc.ts';
import { KREW_MANIFEST, krewManifest } from './generators/krew.ts';
import { openApiFiles } from './generators/openapi.ts';
import { operatorAlertFiles } from './generators/operator-alerts.ts';
import { rbacDoc, rbacTemplate } from './generators/rbac.ts';

export const GENERATED: Record<string, () => string> = {
  'docs/configuration.md': configurationDoc,
  'docs/exchange-errors.md': exchangeErrorsDoc,
  ...crdFiles(),
  'cdk8s/api/src/generated/types.ts': crdTypes,
  'docs/api-reference.md': apiReference,
  ...chartCrdFiles(),
  'charts/veloz-operator/templates/rbac.yaml': rbacTemplate,
  'docs/rbac.md': rbacDoc,
  ...operatorAlertFiles(),
  ...dashboardFiles(),
  ...argocdFiles(),
  ...openApiFiles(),
  [KREW_MANIFEST]: krewManifest,
};
