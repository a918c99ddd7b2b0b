#!/usr/bin/env bash
# Build the pinned upstream Kubernetes toolchain from source (Go module proxy only) into a
# versioned cache directory. See hack/README.md.
#
#   hack/build-k8s.sh                 build whatever is missing (idempotent, per-binary stamps)
#   hack/build-k8s.sh --print-dir     print the cache directory and exit
#   hack/build-k8s.sh --check         exit 0 if everything is built, 1 otherwise (builds nothing)
#   hack/build-k8s.sh STEP...         only these steps: kubernetes etcd kwok helm crds node coredns
#   hack/build-k8s.sh promtool        Prometheus' promtool (not part of the default steps; the
#                                     promtool test runs `promtool check metrics` when it is built)
#   hack/build-k8s.sh kubeadm         kubeadm (not a default step; the kind node image of
#                                     hack/build-kind-node.sh needs it)
#
# `node` (kubelet, kube-proxy) and `coredns` are what a real node needs (hack/node.sh); the kwok
# cluster alone needs neither.
#
# Environment: VELOZ_K8S_CACHE (cache dir), GO (go binary), VELOZ_BUILD_FORCE=1 (ignore stamps).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"

CACHE="${VELOZ_K8S_CACHE}"
BIN="${CACHE}/bin"
STAMPS="${CACHE}/.stamps"
WORK="${CACHE}/.build"
CRDS="${CACHE}/crds"

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
NODE_BINARIES=(kubelet kube-proxy)
ALL_STEPS=(crds kubernetes etcd kwok helm node coredns)
# Built only when named: nothing the local cluster needs.
OPTIONAL_STEPS=(promtool kubeadm)
PROM_CRD_FILES=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_podmonitors.yaml monitoring.coreos.com_prometheusrules.yaml)

log() { printf '[build-k8s %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[build-k8s] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- stamps -----------------------------------------------------------------------------------
# A stamp records what a file was built from; a different signature means "rebuild".
sig_kubernetes() { echo "kubernetes ${KUBE_VERSION} ldflags-v1 pgo=off trimpath cgo=0"; }
sig_etcd()       { echo "etcd ${ETCD_VERSION} v1 trimpath cgo=0"; }
sig_kwok()       { echo "kwok ${KWOK_VERSION} kube=${KUBE_VERSION} v1 trimpath cgo=0"; }
sig_helm()       { echo "helm ${HELM_VERSION} v1 trimpath cgo=0"; }
sig_crds()       { echo "prometheus-operator ${PROMETHEUS_OPERATOR_VERSION} v1"; }
sig_coredns()    { echo "coredns ${COREDNS_VERSION} v1 trimpath cgo=0"; }
sig_promtool()   { echo "promtool ${PROMETHEUS_VERSION} v1 trimpath cgo=0"; }

is_built() { # is_built FILE SIGNATURE
  [[ "${VELOZ_BUILD_FORCE:-0}" != 1 && -s "$1" && -f "${STAMPS}/$(basename "$1")" ]] &&
    [[ "$(cat "${STAMPS}/$(basename "$1")")" == "$2" ]]
}
stamp() { mkdir -p "${STAMPS}"; printf '%s\n' "$2" >"${STAMPS}/$(basename "$1")"; }

missing_kube_binaries() { # missing_kube_binaries NAME...
  local b
  for b in "$@"; do is_built "${BIN}/${b}" "$(sig_kubernetes)" || echo "${b}"; done
}
step_done() {
  case "$1" in
    kubernetes) [[ -z "$(missing_kube_binaries "${KUBE_BINARIES[@]}")" ]] ;;
    node) [[ -z "$(missing_kube_binaries "${NODE_BINARIES[@]}")" ]] ;;
    coredns) is_built "${BIN}/coredns" "$(sig_coredns)" ;;
    etcd) is_built "${BIN}/etcd" "$(sig_etcd)" ;;
    kwok) is_built "${BIN}/kwok" "$(sig_kwok)" && is_built "${BIN}/kwokctl" "$(sig_kwok)" ;;
    helm) is_built "${BIN}/helm" "$(sig_helm)" ;;
    promtool) is_built "${BIN}/promtool" "$(sig_promtool)" ;;
    kubeadm) [[ -z "$(missing_kube_binaries kubeadm)" ]] ;;
    crds)
      local f
      for f in "${PROM_CRD_FILES[@]}"; do is_built "${CRDS}/${f}" "$(sig_crds)" || return 1; done ;;
    *) die "unknown step '$1' (known: ${ALL_STEPS[*]} ${OPTIONAL_STEPS[*]})" ;;
  esac
}

# ---- arguments --------------------------------------------------------------------------------
STEPS=()
MODE=build
for arg in "$@"; do
  case "${arg}" in
    --print-dir) echo "${CACHE}"; exit 0 ;;
    --check) MODE=check ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option ${arg}" ;;
    *) STEPS+=("${arg}") ;;
  esac
done
[[ ${#STEPS[@]} -gt 0 ]] || STEPS=("${ALL_STEPS[@]}")

TODO=()
for s in "${STEPS[@]}"; do step_done "${s}" || TODO+=("${s}"); done
if [[ "${MODE}" == check ]]; then
  [[ ${#TODO[@]} -eq 0 ]] && exit 0
  echo "not built: ${TODO[*]}" >&2; exit 1
fi
if [[ ${#TODO[@]} -eq 0 ]]; then
  log "all built in ${CACHE} (${STEPS[*]}); nothing to do"
  exit 0
fi

# ---- Go toolchain -----------------------------------------------------------------------------
GO="${GO:-}"
if [[ -z "${GO}" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  fi
fi
[[ -n "${GO}" && -x "${GO}" ]] || die "Go was not found${GO:+ at ${GO}} (needed to build Kubernetes ${KUBE_VERSION}, etcd, kwok and helm from source).
  Install Go >= ${GO_MIN_VERSION} (https://go.dev/doc/install, e.g. into /usr/local/go) and put it on PATH, or set GO=/path/to/go."
export GOTOOLCHAIN=local CGO_ENABLED=0
GOVER="$("${GO}" env GOVERSION)"   # e.g. go1.26.8
ver_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }
ver_ge "${GOVER#go}" "${GO_MIN_VERSION}" || die "${GO} is ${GOVER}; Go >= ${GO_MIN_VERSION} is required (kwok ${KWOK_VERSION}, helm ${HELM_VERSION} and etcd ${ETCD_VERSION} need it). Install a newer Go (https://go.dev/doc/install)."
# GOMODCACHE / GOCACHE stay at Go's defaults: they are caches too and shared with other Go work.
export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"

mkdir -p "${BIN}" "${STAMPS}" "${WORK}" "${CRDS}"
exec 9>"${CACHE}/.build.lock"
if ! flock -n 9; then
  log "another build is running in ${CACHE}; waiting for it"
  flock 9
fi

# Runs "$@" with its output in a log file, printing a heartbeat every 30s. With TOTAL_PKGS set,
# the heartbeat shows packages compiled (go build -v prints one line per package) out of the total.
run_logged() { # run_logged NAME LOGFILE CMD...
  local name="$1" logf="$2"; shift 2
  local start=$SECONDS next=$((SECONDS + 30)) rc=0 n
  : >"${logf}"
  "$@" >>"${logf}" 2>&1 &
  local pid=$!
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 2
    if (( SECONDS >= next )) && kill -0 "${pid}" 2>/dev/null; then
      next=$((SECONDS + 30))
      n="$(grep -c . "${logf}" || true)"
      log "  ${name}: $((SECONDS - start))s, ${n}${TOTAL_PKGS:+/~${TOTAL_PKGS}} packages"
    fi
  done
  wait "${pid}" || rc=$?
  if (( rc != 0 )); then
    log "  ${name} FAILED (exit ${rc}); last lines of ${logf}:"
    tail -n 40 "${logf}" >&2
    die "building ${name} failed; see ${logf}. If it is a network error, check that the Go module proxy ($("${GO}" env GOPROXY)) is reachable."
  fi
}

module_info() { # module_info MODULE@VERSION FIELD -> prints the field of go mod download -json
  local json
  json="$(cd "${WORK}" && "${GO}" mod download -json "$1")" || die "go mod download $1 failed: ${json}"
  printf '%s' "${json}" | sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\{0,1\}\$/\\1/p" | head -1
}

TIMINGS="${CACHE}/build-times.txt"
timed() { # timed STEP FUNC
  local t0=$SECONDS
  log "step $1: building"
  "$2"
  local dt=$((SECONDS - t0))
  log "step $1: done in ${dt}s"
  printf '%s %s %ss (%s, %s cores)\n' "$(date -u +%FT%TZ)" "$1" "${dt}" "${GOVER}" "$(nproc)" >>"${TIMINGS}"
}

# ---- steps ------------------------------------------------------------------------------------
build_kubernetes() { go_build_kubernetes "${KUBE_BINARIES[@]}"; }
build_node() { go_build_kubernetes "${NODE_BINARIES[@]}"; }
build_kubeadm() { go_build_kubernetes kubeadm; }

go_build_kubernetes() { # go_build_kubernetes NAME... (builds the missing ones of k8s.io/kubernetes/cmd/NAME)
  local dir="${WORK}/kubernetes" v="${KUBE_VERSION#v}"
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  local staging="v0.${rest}"     # k8s.io/api etc. are tagged v0.<minor>.<patch>
  mkdir -p "${dir}"
  local gomod stamptime
  gomod="$(module_info "k8s.io/kubernetes@${KUBE_VERSION}" GoMod)"
  [[ -f "${gomod}" ]] || die "could not download k8s.io/kubernetes@${KUBE_VERSION} go.mod"
  stamptime="$(module_info "k8s.io/kubernetes@${KUBE_VERSION}" Time)"
  # Every staging module the kubernetes go.mod requires at v0.0.0 (and replaces with ./staging/...).
  local staged
  staged="$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "${gomod}" | sort -u)"
  [[ -n "${staged}" ]] || die "found no k8s.io/* v0.0.0 requirements in ${gomod}"
  {
    echo "// Generated by hack/build-k8s.sh: throw-away consumer module to build Kubernetes ${KUBE_VERSION}."
    echo "module veloz.local/build/kubernetes"
    echo
    echo "go $(awk '$1 == "go" { print $2; exit }' "${gomod}")"
    awk '$1 == "godebug" { print }' "${gomod}"
    echo
    echo "require k8s.io/kubernetes ${KUBE_VERSION}"
    echo
    echo "replace ("
    local m
    for m in ${staged}; do echo "	${m} => ${m} ${staging}"; done
    echo ")"
  } >"${dir}/go.mod"
  local pkgs=() b
  for b in $(missing_kube_binaries "$@"); do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  local X="" bdate="${stamptime%%.*}"
  [[ -n "${bdate}" ]] || bdate=1970-01-01T00:00:00Z
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    X+=" -X ${p}.gitVersion=${KUBE_VERSION} -X ${p}.gitMajor=${major} -X ${p}.gitMinor=${minor}"
    X+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=${bdate}"
  done
  log "  go build ${pkgs[*]##*/} (${#pkgs[@]} binaries, one invocation; log: ${WORK}/kubernetes.log)"
  local TOTAL_PKGS
  log "  resolving modules and the package graph (downloads modules on a cold cache)"
  local rc=0
  TOTAL_PKGS="$(cd "${dir}" && "${GO}" list -deps "${pkgs[@]}" 2>"${WORK}/kubernetes-resolve.log" | wc -l)" || rc=$?
  if (( rc != 0 )); then
    grep -v '^go: downloading' "${WORK}/kubernetes-resolve.log" | tail -n 20 >&2
    die "resolving Kubernetes ${KUBE_VERSION} modules failed; check that the Go module proxy ($("${GO}" env GOPROXY)) is reachable"
  fi
  run_logged kubernetes "${WORK}/kubernetes.log" \
    bash -c 'cd "$1" && shift && exec "$@"' _ "${dir}" \
    "${GO}" build -v -trimpath -pgo=off -ldflags="-s -w${X}" -o "${BIN}/" "${pkgs[@]}"
  for b in "${pkgs[@]##*/}"; do
    [[ -x "${BIN}/${b}" ]] || die "go build succeeded but ${BIN}/${b} is missing"
    stamp "${BIN}/${b}" "$(sig_kubernetes)"
  done
}

build_etcd() {
  local dir="${WORK}/etcd"
  mkdir -p "${dir}"
  local gover
  gover="$(awk '$1 == "go" { print $2; exit }' "$(module_info "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" GoMod)")"
  # The server module replaces its sibling etcd modules with ../ paths; those replaces are
  # ignored in a dependency, and its requires already name the same versions.
  printf '// Generated by hack/build-k8s.sh: throw-away consumer module to build etcd %s.\nmodule veloz.local/build/etcd\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "${ETCD_VERSION}" "${gover}" "${ETCD_VERSION}" >"${dir}/go.mod"
  run_logged etcd "${WORK}/etcd.log" \
    bash -c 'cd "$1" && shift && exec "$@"' _ "${dir}" \
    "${GO}" build -v -trimpath -ldflags="-s -w" -o "${BIN}/etcd" go.etcd.io/etcd/server/v3
  stamp "${BIN}/etcd" "$(sig_etcd)"
}

# go_install NAME LDFLAGS PKG@VERSION... : for modules without replace directives, which plain
# `go install pkg@version` builds as released.
go_install() {
  local name="$1" ldflags="$2"; shift 2
  run_logged "${name}" "${WORK}/${name}.log" env GOBIN="${BIN}" GOFLAGS="-buildvcs=false" \
    "${GO}" install -v -trimpath -ldflags="-s -w ${ldflags}" "$@"
}

build_kwok() {
  # KubeVersion makes kwokctl's defaults (component flags, feature gates) match the pinned Kubernetes.
  go_install kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" "sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}"
  stamp "${BIN}/kwok" "$(sig_kwok)"
  stamp "${BIN}/kwokctl" "$(sig_kwok)"
}

build_helm() {
  go_install helm "-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  stamp "${BIN}/helm" "$(sig_helm)"
}

build_promtool() {
  go_install promtool "-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION}" \
    "github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS_VERSION}"
  stamp "${BIN}/promtool" "$(sig_promtool)"
}

build_coredns() {
  # GitCommit is only printed by `coredns -version`.
  go_install coredns "-X github.com/coredns/coredns/coremain.GitCommit=${COREDNS_VERSION}" \
    "github.com/coredns/coredns@${COREDNS_VERSION}"
  stamp "${BIN}/coredns" "$(sig_coredns)"
}

build_crds() {
  local dir f
  dir="$(module_info "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}" Dir)"
  [[ -d "${dir}/example/prometheus-operator-crd" ]] || die "prometheus-operator ${PROMETHEUS_OPERATOR_VERSION} has no example/prometheus-operator-crd/"
  for f in "${PROM_CRD_FILES[@]}"; do
    install -m 0644 "${dir}/example/prometheus-operator-crd/${f}" "${CRDS}/${f}"
    stamp "${CRDS}/${f}" "$(sig_crds)"
  done
}

TOTAL0=$SECONDS
log "building into ${CACHE} with ${GOVER} ($(nproc) cores): ${TODO[*]}"
for s in "${TODO[@]}"; do
  # re-check: a concurrent build may have finished it while we waited for the lock
  if step_done "${s}"; then log "step ${s}: already built"; continue; fi
  timed "${s}" "build_${s}"
done
log "all done in $((SECONDS - TOTAL0))s; binaries in ${BIN}"
