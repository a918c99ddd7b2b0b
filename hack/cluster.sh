#!/usr/bin/env bash
# Local Kubernetes control plane for VeloZ, from upstream binaries built by hack/build-k8s.sh.
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler, run by kwokctl's binary
# runtime, listening on 127.0.0.1 only, and nodes: kwok fake nodes (pods are scheduled but run
# nothing), or one real node (hack/node.sh: containerd, kubelet, kube-proxy, CoreDNS; pods run).
# See hack/README.md.
#
#   hack/cluster.sh up           build binaries if needed, start the cluster (idempotent)
#   hack/cluster.sh down         stop every process the cluster started and delete its state
#   hack/cluster.sh status       show what is running
#   hack/cluster.sh restart      restart kube-apiserver in place (state is kept in etcd)
#   hack/cluster.sh kubeconfig   print the kubeconfig path
#   hack/cluster.sh mode         print the node mode of the running cluster: kwok or real
#   hack/cluster.sh bin          print the directory holding kubectl, helm, kwokctl, ...
#
# Environment:
#   VELOZ_CLUSTER_NAME   cluster name (default: veloz)
#   VELOZ_CLUSTER_STATE  state directory (default: ${XDG_STATE_HOME:-~/.local/state}/veloz/cluster-NAME)
#   VELOZ_CLUSTER_NODE   kwok (default): fake nodes only; real: a real node (fails if this machine
#                        cannot run one); auto: real when `hack/node.sh check` passes, else kwok
#   VELOZ_CLUSTER_NODES  number of kwok fake nodes (default: 1 with kwok, 0 with a real node)
#   VELOZ_K8S_CACHE      binary cache (default from hack/versions.env)
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"

NAME="${VELOZ_CLUSTER_NAME:-veloz}"
[[ "${NAME}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || { echo "invalid VELOZ_CLUSTER_NAME '${NAME}'" >&2; exit 2; }
STATE="${VELOZ_CLUSTER_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/veloz/cluster-${NAME}}"
[[ "${STATE}" == /* ]] || STATE="${PWD}/${STATE}"
STATE="${STATE%/}"
NODE_MODE="${VELOZ_CLUSTER_NODE:-kwok}"
case "${NODE_MODE}" in kwok|real|auto) ;; *) echo "invalid VELOZ_CLUSTER_NODE '${NODE_MODE}' (kwok, real or auto)" >&2; exit 2 ;; esac
# shellcheck source=hack/node.env
source "${HACK_DIR}/node.env"
BIN="${VELOZ_K8S_CACHE}/bin"
CRDS="${VELOZ_K8S_CACHE}/crds"
KUBECONFIG_PATH="${STATE}/kubeconfig"
# kwokctl keeps everything (pki, etcd data, logs, pid files) under its workdir: inside our state.
export KWOK_WORKDIR="${STATE}/kwok"
KWOK_CLUSTER_DIR="${KWOK_WORKDIR}/clusters/${NAME}"

log() { printf '[cluster %s %s] %s\n' "${NAME}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[cluster %s] ERROR: %s\n' "${NAME}" "$*" >&2; exit 1; }

kubectl() { "${BIN}/kubectl" --kubeconfig "${KUBECONFIG_PATH}" "$@"; }
# fd 8 holds our lock: the daemons kwokctl starts must not inherit it (they would hold it forever).
kwokctl() { "${BIN}/kwokctl" --name "${NAME}" "$@" 8>&- 7>&-; }

api_ready() {
  [[ -f "${KUBECONFIG_PATH}" && -x "${BIN}/kubectl" ]] &&
    [[ "$(kubectl --request-timeout=5s get --raw /readyz 2>/dev/null)" == ok ]]
}

# PIDs of live processes whose command line mentions our state dir (all cluster components do:
# their --kubeconfig/--data-dir/--config flags point into it).
state_pids() {
  local f p re
  # "[/]abs/path/" as a regex: it does not match grep's own command line
  re="$(printf '%s/' "${STATE}" | sed 's/[][\.*^$+?(){}|]/\\&/g')"
  re="[/]${re#/}"
  for f in $(grep -lsE -- "${re}" /proc/[0-9]*/cmdline); do
    p="${f#/proc/}"; p="${p%/cmdline}"
    [[ "${p}" == "$$" || "${p}" == "${BASHPID}" ]] && continue
    grep -qsF cluster.sh "${f}" && continue
    echo "${p}"
  done
  return 0
}

# A process exists and is not a zombie (kill -0 succeeds on zombies).
alive() {
  local st
  st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "${st}" && "${st:0:1}" != Z && "${st:0:1}" != X ]]
}

# Every pid file kwokctl wrote belongs to a process that is alive.
components_alive() {
  local f n=0
  for f in "${KWOK_CLUSTER_DIR}"/pids/*.pid; do
    [[ -f "${f}" ]] || continue
    alive "$(cat "${f}")" || return 1
    n=$((n + 1))
  done
  (( n >= 4 ))
}

# hack/node.sh for this cluster.
node_sh() { VELOZ_CLUSTER_NAME="${NAME}" VELOZ_CLUSTER_STATE="${STATE}" "${HACK_DIR}/node.sh" "$@"; }

# The mode the cluster was started in (kwok when it is not up).
state_mode() { cat "${STATE}/mode" 2>/dev/null || echo kwok; }

healthy() {
  [[ -f "${STATE}/ready" ]] && components_alive && api_ready || return 1
  [[ "$(state_mode)" != real ]] || node_sh status >/dev/null 2>&1
}

# The mode this `up` runs in: kwok or real (auto decides here, and says why).
resolve_mode() {
  [[ "${NODE_MODE}" != kwok ]] || { echo kwok; return; }
  local why
  if why="$(node_sh check 2>&1)"; then echo real; return; fi
  why="$(tail -n +2 <<<"${why}" | sed 's/^ *- //' | paste -sd ';' -)"
  [[ "${NODE_MODE}" == auto ]] || die "VELOZ_CLUSTER_NODE=real, but no real node can run here: ${why}"
  log "VELOZ_CLUSTER_NODE=auto: no real node here (${why}); using kwok"
  echo kwok
}

write_kwokctl_config() { # write_kwokctl_config MODE
  local sans="" apiserver_extra=""
  if [[ "$1" == real ]]; then
    # Pods reach the API server through the \`kubernetes\` Service (${NODE_API_SERVICE_IP}), whose
    # endpoint is the advertise address: the node's bridge address, relayed to loopback.
    sans="  kubeApiserverCertSANs: [${NODE_API_SERVICE_IP}, ${NODE_IP}]"
    # The kubelet is reached at the node's InternalIP (its name is not in any DNS here).
    apiserver_extra="  - key: advertise-address
    value: ${NODE_IP}
  - key: kubelet-preferred-address-types
    value: InternalIP"
  fi
  # All binaries are local absolute paths, so kwokctl never downloads anything.
  cat >"${STATE}/kwokctl.yaml" <<EOF
# Generated by hack/cluster.sh
kind: KwokctlConfiguration
apiVersion: config.kwok.x-k8s.io/v1alpha1
options:
  runtime: binary
  kubeVersion: ${KUBE_VERSION}
  etcdVersion: ${ETCD_VERSION#v}
  kwokVersion: ${KWOK_VERSION}
  bindAddress: 127.0.0.1
  securePort: true
  kubeAuthorization: true
  kubeAdmission: true
  quietPull: true
  cacheDir: ${KWOK_WORKDIR}/cache
  etcdBinary: ${BIN}/etcd
  kubeApiserverBinary: ${BIN}/kube-apiserver
  kubeControllerManagerBinary: ${BIN}/kube-controller-manager
  kubeSchedulerBinary: ${BIN}/kube-scheduler
  kubectlBinary: ${BIN}/kubectl
  kwokControllerBinary: ${BIN}/kwok
${sans}
componentsPatches:
- name: kube-apiserver
  extraArgs:
  # room for thousands of Services (the default /24 runs out in bench:operator)
  - key: service-cluster-ip-range
    value: 10.96.0.0/16
${apiserver_extra}
- name: kube-controller-manager
  extraArgs:
  # all default controllers (garbage collector, statefulset, cronjob, job, PV binder, ...)
  - key: controllers
    value: "*"
  # in-tree hostPath provisioner: PVCs of the default StorageClass get a PV under /tmp/hostpath_pv
  - key: enable-hostpath-provisioner
    value: "true"
- name: kwok-controller
  extraArgs:
  # kwok only fakes nodes annotated kwok.x-k8s.io/node=fake, leaving room for a real kubelet node
  - key: manage-all-nodes
    value: "false"
    override: true
  - key: manage-nodes-with-annotation-selector
    value: kwok.x-k8s.io/node=fake
EOF
}

bootstrap_manifests() {
  cat <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
# The API then accepts larger claims, so the operator's WAL growth path is exercised; hostPath
# volumes have no real size, so nothing is resized on disk.
allowVolumeExpansion: true
EOF
  local i
  for ((i = 0; i < NODES; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${i}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-${i}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
spec:
  # pod IPs (faked by kwok) come from here; apart from the service range 10.96.0.0/16
  podCIDR: 10.244.$((i * 16)).0/20
  podCIDRs: [10.244.$((i * 16)).0/20]
status:
  # A fake node runs nothing: it advertises room for thousands of pods (bench:operator places
  # 1000+ engine and gateway pods, each requesting the seeds' CPU and memory).
  allocatable: {cpu: "4000", memory: 4Ti, pods: "4000", ephemeral-storage: 100Ti}
  capacity: {cpu: "4000", memory: 4Ti, pods: "4000", ephemeral-storage: 100Ti}
EOF
  done
}

# kwok gives pods addresses from 10.244.0.0/16 that nothing serves; the API server's pod proxy
# (the operator out of cluster reaching an engine, `npm start` in kwok mode) would send their
# connections out through the default route. An `unreachable` route makes them fail at once,
# on this machine. Removed when the last local cluster goes.
fake_pod_route() { # fake_pod_route add|del
  [[ "$(id -u)" == 0 ]] && command -v ip >/dev/null 2>&1 || return 0
  if [[ "$1" == add ]]; then
    ip route replace unreachable 10.244.0.0/16 2>/dev/null ||
      log "could not add the route 'unreachable 10.244.0.0/16' (continuing)"
  elif ! compgen -G "$(dirname "${STATE}")/cluster-*/ready" >/dev/null; then
    ip route del unreachable 10.244.0.0/16 2>/dev/null || true
  fi
}

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || die "timed out waiting for ${what}; logs: ${KWOK_CLUSTER_DIR}/logs/"
    sleep 1
  done
}

cmd_up() {
  local t0=$SECONDS mode
  "${HACK_DIR}/build-k8s.sh"
  mkdir -p "$(dirname "${STATE}")"
  exec 8>"${STATE}.lock"
  flock 8
  if healthy; then
    log "already up and healthy (kubeconfig: ${KUBECONFIG_PATH})"
    return 0
  fi
  if [[ -e "${STATE}" ]]; then
    log "found stale or unhealthy state in ${STATE}; recreating"
    do_down
  fi
  mode="$(resolve_mode)" || exit 1
  NODES="${VELOZ_CLUSTER_NODES:-$([[ "${mode}" == real ]] && echo 0 || echo 1)}"
  if [[ "${mode}" == real ]]; then
    # Packages, node binaries and images (all cached); the node imports the images when it starts,
    # from the image cache: the veloz image is built into it (not into a Docker engine's store).
    node_sh deps
    "${HACK_DIR}/build-image-rootfs.sh" >&2
  fi
  mkdir -p "${STATE}"
  echo "${mode}" >"${STATE}/mode"
  write_kwokctl_config "${mode}"
  log "starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller (kwokctl --runtime=binary)"
  # kwokctl picks free ports when it creates a cluster and the components bind them only later:
  # two clusters created at once can pick the same ports. One creation at a time on this machine.
  exec 7>"${TMPDIR:-/tmp}/veloz-kwokctl-create.lock"
  flock 7
  # --kubeconfig='' : do not touch ~/.kube/config
  if ! kwokctl create cluster --runtime=binary --config "${STATE}/kwokctl.yaml" --kubeconfig='' \
      --wait=3m >"${STATE}/kwokctl-create.log" 2>&1; then
    cat "${STATE}/kwokctl-create.log" >&2
    die "kwokctl create cluster failed (component logs: ${KWOK_CLUSTER_DIR}/logs/)"
  fi
  exec 7>&-
  cp "${KWOK_CLUSTER_DIR}/kubeconfig.yaml" "${KUBECONFIG_PATH}"
  chmod 600 "${KUBECONFIG_PATH}"
  wait_for 120 "API server /readyz" api_ready
  log "API server ready at $(kubectl config view -o jsonpath='{.clusters[0].cluster.server}') ($((SECONDS - t0))s)"
  bootstrap_manifests | kubectl apply -f - >/dev/null
  fake_pod_route add
  if [[ -d "${CRDS}" ]] && compgen -G "${CRDS}/*.yaml" >/dev/null; then
    kubectl apply --server-side --force-conflicts -f "${CRDS}" >/dev/null
    kubectl wait --for=condition=Established --timeout=60s -f "${CRDS}" >/dev/null
    log "installed Prometheus Operator CRDs ${PROMETHEUS_OPERATOR_VERSION}"
  fi
  wait_for 120 "the default ServiceAccount" kubectl -n default get serviceaccount default
  if (( NODES > 0 )); then
    kubectl wait --for=condition=Ready --timeout=120s node -l type=kwok >/dev/null ||
      die "kwok nodes did not become Ready; logs: ${KWOK_CLUSTER_DIR}/logs/"
  fi
  if [[ "${mode}" == real ]]; then
    node_sh up 8>&-
  fi
  date -u +%FT%TZ >"${STATE}/ready"
  log "up in $((SECONDS - t0))s: mode ${mode}: $([[ "${mode}" == real ]] && echo "a real node (${NAME}-node), ")${NODES} kwok node(s), default StorageClass 'standard' (hostPath provisioner)"
  log "kubeconfig: ${KUBECONFIG_PATH}   kubectl: ${BIN}/kubectl"
}

do_down() {
  local pv_dirs="" pids p i f component_pids=""
  if [[ -d "${STATE}/node" ]]; then
    node_sh down ||
      log "stopping the real node failed (continuing)"
  fi
  for f in "${KWOK_CLUSTER_DIR}"/pids/*.pid; do
    [[ -f "${f}" ]] && component_pids+=" $(cat "${f}")"
  done
  if api_ready; then
    # hostPath PV directories the in-tree provisioner created for this cluster
    pv_dirs="$(kubectl get pv -o jsonpath='{range .items[*]}{.spec.hostPath.path}{"\n"}{end}' 2>/dev/null |
      grep '^/tmp/hostpath_pv/' || true)"
  fi
  if [[ -x "${BIN}/kwokctl" && -d "${KWOK_CLUSTER_DIR}" ]]; then
    # (delete insists on a kubeconfig to remove its context from: give it our own copy)
    kwokctl delete cluster --kubeconfig="${KUBECONFIG_PATH}" >"${STATE}/kwokctl-delete.log" 2>&1 ||
      log "kwokctl delete cluster failed (continuing): $(tail -n 3 "${STATE}/kwokctl-delete.log")"
  fi
  # Anything still running from this cluster's state dir: TERM, then KILL.
  pids="$(state_pids)"
  if [[ -n "${pids}" ]]; then
    log "stopping leftover processes: $(echo ${pids})"
    kill -TERM ${pids} 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pids="$(state_pids)"; [[ -z "${pids}" ]] && break
      sleep 0.2
    done
    [[ -z "${pids}" ]] || kill -KILL ${pids} 2>/dev/null || true
    sleep 0.2
  fi
  pids="$(state_pids)"
  [[ -z "${pids}" ]] || die "processes still running from ${STATE}: ${pids}"
  for p in ${pv_dirs}; do rm -rf -- "${p}"; done
  rm -rf -- "${STATE}"
  fake_pod_route del
  # The components were re-parented to init when kwokctl exited; they are stopped now, but wait
  # (bounded) until init has reaped them so that `ps` shows no <defunct> leftovers either.
  for ((i = 0; i < 100; i++)); do
    pids=""
    for p in ${component_pids}; do [[ -e "/proc/${p}" ]] && pids+=" ${p}"; done
    [[ -z "${pids}" ]] && break
    sleep 0.2
  done
  [[ -z "${pids}" ]] || log "note: stopped processes${pids} are zombies waiting to be reaped by init"
}

cmd_down() {
  local t0=$SECONDS
  mkdir -p "$(dirname "${STATE}")"
  exec 8>"${STATE}.lock"
  flock 8
  if [[ ! -e "${STATE}" ]]; then
    log "not running (no state in ${STATE})"
  else
    do_down
    log "down in $((SECONDS - t0))s; no processes left, state removed"
  fi
  rm -f "${STATE}.lock"
}

cmd_status() {
  echo "cluster:    ${NAME}"
  echo "state:      ${STATE}"
  echo "binaries:   ${BIN} (Kubernetes ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION})"
  if [[ ! -d "${STATE}" ]]; then
    echo "status:     down"
    return 3
  fi
  echo "kubeconfig: ${KUBECONFIG_PATH}"
  echo "mode:       $(state_mode)"
  local f pid
  for f in "${KWOK_CLUSTER_DIR}"/pids/*.pid; do
    [[ -f "${f}" ]] || continue
    pid="$(cat "${f}")"
    if alive "${pid}"; then
      printf '  %-26s pid %-8s running\n' "$(basename "${f}" .pid)" "${pid}"
    else
      printf '  %-26s pid %-8s NOT RUNNING\n' "$(basename "${f}" .pid)" "${pid}"
    fi
  done
  if [[ "$(state_mode)" == real ]]; then
    node_sh status || true
  fi
  if api_ready; then
    echo "api server: $(kubectl config view -o jsonpath='{.clusters[0].cluster.server}') ready"
    kubectl get nodes -o wide 2>/dev/null || true
    if healthy; then echo "status:     up"; return 0; fi
  else
    echo "api server: not ready"
  fi
  echo "status:     unhealthy (hack/cluster.sh up recreates it)"
  return 1
}

# Restarts kube-apiserver in place with its exact command line (the e2e suite checks that
# watches survive it). Only the API server: kwok's controller does not resume pod handling
# after a restart of the whole control plane.
cmd_restart() {
  api_ready || die "the cluster is not up"
  local pidf="${KWOK_CLUSTER_DIR}/pids/kube-apiserver.pid" pid cwd i
  pid="$(cat "${pidf}")"
  [[ -r "/proc/${pid}/cmdline" ]] || die "kube-apiserver (pid ${pid}) is not running"
  local -a args
  mapfile -d '' args <"/proc/${pid}/cmdline"
  cwd="$(readlink "/proc/${pid}/cwd")"
  # Its port is free from the kill until the new process binds it: a cluster being created in
  # that window could take it (the new API server would then exit on "address already in use").
  # Hold the lock that `up` takes around port selection meanwhile.
  exec 7>"${TMPDIR:-/tmp}/veloz-kwokctl-create.lock"
  flock 7
  log "killing kube-apiserver (pid ${pid})"
  # SIGKILL: a crash is the harsher test, and a graceful stop drains for tens of seconds.
  kill -KILL "${pid}"
  # Exited, or a zombie waiting for init to reap it.
  for i in $(seq 1 100); do
    [[ -e "/proc/${pid}" ]] && ! grep -qs '^State:.*Z' "/proc/${pid}/status" || break
    sleep 0.2
  done
  local attempt logf="${KWOK_CLUSTER_DIR}/logs/kube-apiserver.log" newpid port a
  # The killed process's leader thread turns zombie before its other threads have let go of the
  # listening socket: wait (bounded) until nothing listens on the port any more.
  for a in "${args[@]}"; do [[ "${a}" == --secure-port=* ]] && port="${a#--secure-port=}"; done
  if [[ -n "${port:-}" ]] && command -v ss >/dev/null 2>&1; then
    for i in $(seq 1 100); do
      [[ -z "$(ss -Hltn "sport = :${port}" 2>/dev/null)" ]] && break
      sleep 0.1
    done
  fi
  # Should a start still fail ("address already in use" was seen in CI), the exit or the silence
  # is logged with the log's tail and it is started again, three times at most.
  for attempt in 1 2 3; do
    log "starting kube-apiserver (attempt ${attempt})"
    # setsid -f detaches it from us; the wrapper records the pid that exec then keeps.
    : >"${pidf}"
    (cd "${cwd}" && setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "${pidf}" "${args[@]}" \
      >>"${logf}" 2>&1 </dev/null 7>&- 8>&-)
    for i in $(seq 1 50); do [[ -s "${pidf}" ]] && break; sleep 0.1; done
    newpid="$(cat "${pidf}")"
    for i in $(seq 1 120); do
      api_ready && { exec 7>&-; log "api server ready again"; return 0; }
      alive "${newpid}" || break
      sleep 0.5
    done
    log "kube-apiserver (pid ${newpid}) $(alive "${newpid}" && echo "not ready after 60 s" || echo "exited"); its log ends with:"
    tail -n 15 "${logf}" >&2
    if alive "${newpid}"; then kill -KILL "${newpid}" 2>/dev/null || true; sleep 1; fi
  done
  die "the api server did not come back after a restart; log: ${logf}"
}

case "${1:-}" in
  up) cmd_up ;;
  restart) cmd_restart ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kubeconfig) echo "${KUBECONFIG_PATH}" ;;
  mode) cat "${STATE}/mode" 2>/dev/null || die "the cluster is not up (no ${STATE}/mode)" ;;
  bin) echo "${BIN}" ;;
  -h|--help|help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
