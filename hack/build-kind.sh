#!/usr/bin/env bash
# Build the pinned kind CLI from the Go module proxy into a versioned cache, for
# hack/kind-up.sh (no release downloads, no Docker).
#
#   hack/build-kind.sh               build kind if missing (no-op when the stamp matches)
#   hack/build-kind.sh --print-bin   print the path of the binary and exit
#   hack/build-kind.sh --check       exit 0 if built, 1 otherwise (builds nothing)
#
# Environment: VELOZ_KIND_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/go-install.sh
source "${HACK_DIR}/lib/go-install.sh"

go_install_main "$0" kind "${KIND_VERSION}" "${VELOZ_KIND_CACHE}" sigs.k8s.io/kind "$@"
