#!/usr/bin/env bash
# Builds the `veloz` container image (Dockerfile) with the first container engine that works:
# docker (BuildKit), podman, buildah. Without one (as on the project's CI machines) it builds the
# same contents without Docker (hack/build-image-rootfs.sh): a docker-archive tar in the image
# cache, which hack/node.sh imports into the real node's containerd.
#
#   hack/build-image.sh                 # veloz:<package.json version>
#   VELOZ_IMAGE_BUILDER=rootfs hack/build-image.sh                    # always without Docker
#   VELOZ_IMAGE=registry/veloz:tag hack/build-image.sh
#   VELOZ_IMAGE_PLATFORMS=linux/amd64,linux/arm64 hack/build-image.sh   # docker buildx only
set -euo pipefail
cd "$(dirname "$0")/.."

# One source for each version: package.json's own version and its pinned `node` devDependency.
version=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' package.json | head -n1)
node_version=$(sed -n 's/^    "node": "\([0-9][0-9.]*\)".*/\1/p' package.json | head -n1)
if [[ -z "$version" || -z "$node_version" ]]; then
  echo "hack/build-image.sh: cannot read the version or the node devDependency from package.json" >&2
  exit 2
fi
image=${VELOZ_IMAGE:-veloz:$version}
args=(--build-arg "NODE_VERSION=$node_version" --build-arg "VERSION=$version" -t "$image" -f Dockerfile .)

works() { command -v "$1" >/dev/null 2>&1 && "$@" >/dev/null 2>&1; }

if [[ "${VELOZ_IMAGE_BUILDER:-}" == rootfs ]]; then
  exec "$(dirname "$0")/build-image-rootfs.sh"
elif works docker info; then
  if [[ -n "${VELOZ_IMAGE_PLATFORMS:-}" ]]; then
    exec docker buildx build --platform "$VELOZ_IMAGE_PLATFORMS" "${args[@]}"
  fi
  DOCKER_BUILDKIT=1 docker build "${args[@]}"
elif works podman info; then
  podman build "${args[@]}"
elif works buildah version; then
  buildah bud "${args[@]}"
else
  echo "hack/build-image.sh: no container engine (docker with a daemon, podman, buildah); building $image without one" >&2
  exec "$(dirname "$0")/build-image-rootfs.sh"
fi
echo "built $image (Node $node_version)"
