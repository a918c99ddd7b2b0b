// Every generated file and its generator: `npm run gen` writes them, a test fails when one is stale.
import { apiReference } from './generators/api-reference.ts';
import { configurationDoc } from './generators/configuration-doc.ts';
import { crdFiles } from './generators/crds.ts';
import { crdTypes } from './generators/crd-types.ts';

export const GENERATED: Record<string, () => string> = {
  'docs/configuration.md': configurationDoc,
  ...crdFiles(),
  'cdk8s/src/generated/types.ts': crdTypes,
  'docs/api-reference.md': apiReference,
};
