// The default image of the operator, the engines, gateways and backup jobs: one name, derived
// from the one version number (package.json, the chart's version and appVersion, the image tag;
// hack/build-image.sh tags veloz:<version>). The operator, `npm run synth` and the chart's
// values.yaml (checked by scripts/chart.test.ts) all mean this image.
import pkg from '../package.json' with { type: 'json' };

export const IMAGE_REPOSITORY = 'veloz';
export const VERSION: string = pkg.version;
export const DEFAULT_IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;
