// Every generated file and its generator: `npm run gen` writes them, a test fails when one is stale.
import { configurationDoc } from './generators/configuration-doc.ts';

export const GENERATED: Record<string, () => string> = {
  'docs/configuration.md': configurationDoc,
};
