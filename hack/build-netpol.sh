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

CACHE="${VELOZ_NETPOL_CACHE}"
BIN="${CACHE}/bin"
STAMP="${CACHE}/.stamps/kube-network-policies"
SIG="kube-network-policies ${NETPOL_VERSION} v1 trimpath cgo=0"

log() { printf '[build-netpol %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[build-netpol] ERROR: %s\n' "$*" >&2; exit 1; }
built() { [[ "${VELOZ_BUILD_FORCE:-0}" != 1 && -x "${BIN}/kube-network-policies" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${SIG}" ]]; }

case "${1:-}" in
  --print-bin) echo "${BIN}/kube-network-policies"; exit 0 ;;
  --check) built && exit 0; echo "not built: kube-network-policies" >&2; exit 1 ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown argument $1" ;;
esac
if built; then log "kube-network-policies ${NETPOL_VERSION} already built in ${BIN}"; exit 0; fi

GO="${GO:-}"
if [[ -z "${GO}" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  fi
fi
[[ -n "${GO}" && -x "${GO}" ]] || die "Go was not found (needed to build kube-network-policies ${NETPOL_VERSION} from source); install Go >= ${GO_MIN_VERSION} or set GO=/path/to/go."
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

mkdir -p "${BIN}" "$(dirname "${STAMP}")"
exec 9>"${CACHE}/.build.lock"
if ! flock -n 9; then
  log "another build is running in ${CACHE}; waiting for it"
  flock 9
  built && exit 0
fi

# go install names the binary after its package directory (cmd); the module has no replace
# directives, so it builds as pinned.
LOGF="${CACHE}/build.log"
t0=$SECONDS
log "building kube-network-policies ${NETPOL_VERSION} with $("${GO}" env GOVERSION) ($(nproc) cores); log: ${LOGF}"
if ! GOBIN="${CACHE}/gobin" "${GO}" install -v -trimpath -ldflags="-s -w" "sigs.k8s.io/kube-network-policies/cmd@${NETPOL_VERSION}" >"${LOGF}" 2>&1; then
  tail -n 30 "${LOGF}" >&2
  die "building kube-network-policies failed; see ${LOGF}. If it is a network error, check that the Go module proxy ($("${GO}" env GOPROXY)) is reachable."
fi
mv "${CACHE}/gobin/cmd" "${BIN}/kube-network-policies"
printf '%s\n' "${SIG}" >"${STAMP}"
printf '%s kube-network-policies %ss (%s cores)\n' "$(date -u +%FT%TZ)" "$((SECONDS - t0))" "$(nproc)" >>"${CACHE}/build-times.txt"
log "built ${BIN}/kube-network-policies in $((SECONDS - t0))s"
