// Other references to the default image. Cases that change a desk's image need references that
// differ as strings yet run on every cluster: on kwok's fake nodes any name "runs", but real
// nodes (kind) have only the loaded `veloz:<version>`, and containerd resolves these two
// spellings of it to that image without a registry.
import { DEFAULT_IMAGE } from '@veloz/api/image';

export const IMAGE_ALIASES = [`docker.io/library/${DEFAULT_IMAGE}`, `docker.io/${DEFAULT_IMAGE}`] as const;
