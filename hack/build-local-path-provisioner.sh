#!/usr/bin/env bash
# Build the pinned local-path-provisioner (rancher's, the one stock kind ships) from the Go module
# proxy into a versioned cache, for the kind node image of hack/build-kind-node.sh (no release
# downloads, no registry).
#
#   hack/build-local-path-provisioner.sh               build it if missing (no-op when the stamp matches)
#   hack/build-local-path-provisioner.sh --print-bin   print the path of the binary and exit
#   hack/build-local-path-provisioner.sh --check       exit 0 if built, 1 otherwise (builds nothing)
#
# Environment: VELOZ_LOCAL_PATH_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/go-install.sh
source "${HACK_DIR}/lib/go-install.sh"

go_install_main "$0" local-path-provisioner "${LOCAL_PATH_PROVISIONER_VERSION}" "${VELOZ_LOCAL_PATH_CACHE}" \
  github.com/rancher/local-path-provisioner "$@"
