#!/usr/bin/env bash
# Install the pinned Schemathesis (the API fuzzer of the OpenAPI fuzz test) from PyPI into a
# virtualenv in a versioned cache (nothing is downloaded from anywhere but the package registry).
#
#   hack/schemathesis.sh               install if missing (no-op when the stamp matches)
#   hack/schemathesis.sh --print-bin   print the path of the schemathesis executable and exit
#   hack/schemathesis.sh --check       exit 0 if installed, 1 otherwise (installs nothing)
#
# Environment: VELOZ_SCHEMATHESIS_CACHE (cache dir), PYTHON (python3 >= 3.10 binary),
# VELOZ_BUILD_FORCE=1 (ignore the stamp).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"

CACHE="${VELOZ_SCHEMATHESIS_CACHE}"
VENV="${CACHE}/venv"
STAMP="${CACHE}/.stamp"
SIG="schemathesis ${SCHEMATHESIS_VERSION} v1"

log() { printf '[schemathesis %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[schemathesis] ERROR: %s\n' "$*" >&2; exit 1; }
installed() { [[ "${VELOZ_BUILD_FORCE:-0}" != 1 && -x "${VENV}/bin/schemathesis" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${SIG}" ]]; }

case "${1:-}" in
  --print-bin) echo "${VENV}/bin/schemathesis"; exit 0 ;;
  --check) installed && exit 0; echo "not installed: schemathesis ${SCHEMATHESIS_VERSION}" >&2; exit 1 ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown argument $1" ;;
esac
if installed; then log "schemathesis ${SCHEMATHESIS_VERSION} already installed in ${VENV}"; exit 0; fi

PYTHON="${PYTHON:-$(command -v python3 || true)}"
[[ -n "${PYTHON}" && -x "${PYTHON}" ]] || die "python3 was not found (Schemathesis needs Python >= 3.10); install it or set PYTHON=/path/to/python3."
"${PYTHON}" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$("${PYTHON}" --version 2>&1) is too old: Schemathesis ${SCHEMATHESIS_VERSION} needs Python >= 3.10"

mkdir -p "${CACHE}"
exec 9>"${CACHE}/.install.lock"
if ! flock -n 9; then
  log "another install is running in ${CACHE}; waiting for it"
  flock 9
  installed && exit 0
fi

LOGF="${CACHE}/install.log"
t0=$SECONDS
log "installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV} with $("${PYTHON}" --version 2>&1); log: ${LOGF}"
rm -rf "${VENV}" "${STAMP}"
if ! { "${PYTHON}" -m venv "${VENV}" && "${VENV}/bin/python" -m pip install --disable-pip-version-check --no-input "schemathesis==${SCHEMATHESIS_VERSION}"; } >"${LOGF}" 2>&1; then
  tail -n 30 "${LOGF}" >&2
  die "installing schemathesis failed; see ${LOGF}. If it is a network error, check that the Python package index is reachable (pip config list)."
fi
"${VENV}/bin/schemathesis" --version >>"${LOGF}" 2>&1 || die "the installed schemathesis does not run; see ${LOGF}"
printf '%s\n' "${SIG}" >"${STAMP}"
log "installed in $((SECONDS - t0)) s"
