# shellcheck shell=bash
# Builds one pinned Go command from the Go module proxy into a versioned cache (no release
# downloads, no Docker), shared by the hack/build-*.sh scripts that each build a single tool.
#
#   go_install_main SCRIPT TOOL VERSION CACHE PACKAGE [ARGS...]
#
# SCRIPT is the calling script (for --help), TOOL the binary's name in CACHE/bin, PACKAGE the
# `go install` target without its version. ARGS are the caller's: none builds when the stamp does
# not match; --print-bin, --check and --help answer without building.
# Environment: GO (go binary), VELOZ_BUILD_FORCE=1 (ignore the stamp).

go_install_main() {
  local script="$1" tool="$2" version="$3" cache="$4" package="$5"
  shift 5
  local bin="${cache}/bin" stamp="${cache}/.stamps/${tool}" name
  local sig="${tool} ${version} v1 trimpath cgo=0"
  name="$(basename "${script}" .sh)"
  log() { printf '[%s %s] %s\n' "${name}" "$(date +%H:%M:%S)" "$*" >&2; }
  die() { printf '[%s] ERROR: %s\n' "${name}" "$*" >&2; exit 1; }
  built() { [[ "${VELOZ_BUILD_FORCE:-0}" != 1 && -x "${bin}/${tool}" && -f "${stamp}" && "$(cat "${stamp}")" == "${sig}" ]]; }

  case "${1:-}" in
    --print-bin) echo "${bin}/${tool}"; return 0 ;;
    --check) built && return 0; echo "not built: ${tool}" >&2; return 1 ;;
    -h|--help) sed -n '2,10p' "${script}" | sed 's/^# \{0,1\}//'; return 0 ;;
    "") ;;
    *) die "unknown argument $1" ;;
  esac
  if built; then log "${tool} ${version} already built in ${bin}"; return 0; fi

  local go="${GO:-}"
  if [[ -z "${go}" ]]; then
    if command -v go >/dev/null 2>&1; then go="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go
    fi
  fi
  [[ -n "${go}" && -x "${go}" ]] || die "Go was not found (needed to build ${tool} ${version} from source); install Go >= ${GO_MIN_VERSION} or set GO=/path/to/go."
  export GOTOOLCHAIN=local CGO_ENABLED=0
  export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

  mkdir -p "${bin}" "$(dirname "${stamp}")"
  exec 9>"${cache}/.build.lock"
  if ! flock -n 9; then
    log "another build is running in ${cache}; waiting for it"
    flock 9
    built && return 0
  fi

  # go install names the binary after the package's last path element, which is not always the
  # tool's name (kube-network-policies builds as "cmd"): install into a scratch GOBIN and move it.
  local logf="${cache}/build.log" gobin="${cache}/gobin" t0=$SECONDS
  log "building ${tool} ${version} with $("${go}" env GOVERSION) ($(nproc) cores); log: ${logf}"
  rm -rf "${gobin}"
  if ! GOBIN="${gobin}" "${go}" install -v -trimpath -ldflags="-s -w" "${package}@${version}" >"${logf}" 2>&1; then
    tail -n 30 "${logf}" >&2
    die "building ${tool} failed; see ${logf}. If it is a network error, check that the Go module proxy ($("${go}" env GOPROXY)) is reachable."
  fi
  mv "${gobin}/$(basename "${package}")" "${bin}/${tool}"
  printf '%s\n' "${sig}" >"${stamp}"
  printf '%s %s %ss (%s cores)\n' "$(date -u +%FT%TZ)" "${tool}" "$((SECONDS - t0))" "$(nproc)" >>"${cache}/build-times.txt"
  log "built ${bin}/${tool} in $((SECONDS - t0))s"
}
