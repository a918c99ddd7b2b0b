#!/usr/bin/env bash
# Build the pinned S3-compatible server (MinIO) from the Go module proxy into a versioned cache,
# for the backup tests and benchmarks (no release downloads, no Docker).
#
#   hack/build-s3.sh               build minio if missing (no-op when the stamp matches)
#   hack/build-s3.sh --print-bin   print the path of the binary and exit
#   hack/build-s3.sh --check       exit 0 if built, 1 otherwise (builds nothing)
#
# Environment: VELOZ_S3_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/go-install.sh
source "${HACK_DIR}/lib/go-install.sh"

# minio's go.mod has no replace directives, so `go install` builds it as pinned.
go_install_main "$0" minio "${MINIO_VERSION}" "${VELOZ_S3_CACHE}" github.com/minio/minio "$@"
