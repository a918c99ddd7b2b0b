#!/usr/bin/env bash
# Builds the images the real node needs besides `veloz` (hack/node.sh), without Docker or a
# registry, as docker-archive tars in the image cache:
#   pause    the sandbox image: Kubernetes' own pause.c (from the k8s.io/kubernetes module),
#            compiled static
#   coredns  the CoreDNS binary of hack/build-k8s.sh
# Idempotent: an image is rebuilt only when what it is built from changed.
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/node.env
source "${HACK_DIR}/node.env"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh"

BIN="${VELOZ_K8S_CACHE}/bin"
log() { printf '[node-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[node-images] ERROR: %s\n' "$*" >&2; exit 1; }
mkdir -p "${IMAGES_CACHE}"

build_pause() {
  local out="${IMAGES_CACHE}/pause.tar" src work
  # pause.c is fixed by the pinned module version: no need to fetch it to know the image is current.
  local sig="${PAUSE_IMAGE} k8s.io/kubernetes@${KUBE_VERSION} v2"
  fresh "${out}" "${sig}" && return 0
  src="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')/build/pause/linux/pause.c"
  [[ -f "${src}" ]] || die "pause.c not found in k8s.io/kubernetes@${KUBE_VERSION} (${src})"
  command -v gcc >/dev/null || die "gcc is needed to build the pause image (hack/node.sh deps installs it)"
  work="$(mktemp -d)"
  mkdir -p "${work}/rootfs"
  gcc -Os -static -DVERSION="v${PAUSE_VERSION}-veloz" -o "${work}/rootfs/pause" "${src}" ||
    die "compiling pause.c failed (a static C library is needed: Debian's libc6-dev)"
  strip "${work}/rootfs/pause"
  docker_archive "${out}" "${PAUSE_IMAGE}" "${work}/rootfs" \
    '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  echo "${sig}" >"${out}.sig"
  rm -rf -- "${work}"
  log "built ${PAUSE_IMAGE} -> ${out}"
}

build_coredns() {
  local out="${IMAGES_CACHE}/coredns.tar" sig work
  [[ -x "${BIN}/coredns" ]] || die "${BIN}/coredns is not built (hack/build-k8s.sh coredns)"
  sig="${COREDNS_IMAGE} $(sha256sum "${BIN}/coredns" | cut -d' ' -f1) v1"
  fresh "${out}" "${sig}" && return 0
  work="$(mktemp -d)"
  mkdir -p "${work}/rootfs/etc/coredns"
  cp "${BIN}/coredns" "${work}/rootfs/coredns"
  docker_archive "${out}" "${COREDNS_IMAGE}" "${work}/rootfs" '{"Entrypoint":["/coredns"]}'
  echo "${sig}" >"${out}.sig"
  rm -rf -- "${work}"
  log "built ${COREDNS_IMAGE} -> ${out}"
}

build_pause
build_coredns
