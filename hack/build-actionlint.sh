#!/usr/bin/env bash
# Build the pinned actionlint from the Go module proxy into a versioned cache, for
# scripts/actionlint.test.ts (the GitHub Actions workflows in .github/workflows/).
#
#   hack/build-actionlint.sh               build actionlint if missing (no-op when the stamp matches)
#   hack/build-actionlint.sh --print-bin   print the path of the binary and exit
#   hack/build-actionlint.sh --check       exit 0 if built, 1 otherwise (builds nothing)
#
# Environment: VELOZ_ACTIONLINT_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/go-install.sh
source "${HACK_DIR}/lib/go-install.sh"

go_install_main "$0" actionlint "${ACTIONLINT_VERSION}" "${VELOZ_ACTIONLINT_CACHE}" github.com/rhysd/actionlint/cmd/actionlint "$@"
