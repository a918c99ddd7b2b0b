#!/usr/bin/env bash
# Build SIG Network's kube-network-policies (a NetworkPolicy enforcer) from the Go module proxy
# into a versioned cache, for the enforcing-CNI test on the real node (no release downloads, no Docker).
#
#   hack/build-netpol.sh               build kube-network-policies if missing (no-op when the stamp matches)
#   hack/build-netpol.sh --print-bin   print the path of the binary and exit
#   hack/build-netpol.sh --check       exit 0 if built, 1 otherwise (builds nothing)
#
# Environment: VELOZ_NETPOL_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/go-install.sh
source "${HACK_DIR}/lib/go-install.sh"

# The module has no replace directives, so `go install` builds it as pinned.
go_install_main "$0" kube-network-policies "${NETPOL_VERSION}" "${VELOZ_NETPOL_CACHE}" sigs.k8s.io/kube-network-policies/cmd "$@"
