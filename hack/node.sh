#!/usr/bin/env bash
# A real Kubernetes node on this machine, for the local cluster of hack/cluster.sh: containerd
# (own config, state and socket), CNI bridge networking on a private range, kubelet, kube-proxy,
# and CoreDNS as a Deployment. Pods really run, from images built locally (no registry is
# reachable here, so the sandbox image is built too). See hack/README.md ("Real node").
#
#   hack/node.sh check     exit 0 if this machine can run a real node, else say why (exit 1)
#   hack/node.sh deps      install what is missing (Debian packages; needs root), build kubelet,
#                          kube-proxy, CoreDNS and the node images (all cached)
#   hack/node.sh up        start the node against the cluster NAME (which must be up; after deps)
#   hack/node.sh down      stop everything the node started, unmount, delete its network
#   hack/node.sh status    show what is running
#   hack/node.sh import TAR  import a docker-archive image into the node's containerd
#   hack/node.sh ctr ARGS...  run ctr against the node's containerd (namespace k8s.io)
#
# Called by hack/cluster.sh when VELOZ_CLUSTER_NODE=real (or auto and `check` passes). One real
# node per machine: it owns the bridge veloz0, the pod range 10.245.0.0/24 and the kubelet port.
# Environment: VELOZ_CLUSTER_NAME, VELOZ_CLUSTER_STATE (as hack/cluster.sh), VELOZ_K8S_CACHE.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/node.env
source "${HACK_DIR}/node.env"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh" # IMAGES_CACHE

NAME="${VELOZ_CLUSTER_NAME:-veloz}"
STATE="${VELOZ_CLUSTER_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/veloz/cluster-${NAME}}"
[[ "${STATE}" == /* ]] || STATE="${PWD}/${STATE}"
STATE="${STATE%/}"
BIN="${VELOZ_K8S_CACHE}/bin"
KUBECONFIG_PATH="${STATE}/kubeconfig"
NODE_DIR="${STATE}/node"
CTRD_DIR="${NODE_DIR}/containerd"
# Unix socket paths are limited to 108 bytes: the socket lives in /run, named for the cluster.
CTRD_SOCK="/run/veloz-${NAME}/containerd.sock"
LOGS="${NODE_DIR}/logs"
PIDS="${NODE_DIR}/pids"
NODE_NAME="${NAME}-node"

log() { printf '[node %s %s] %s\n' "${NAME}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[node %s] ERROR: %s\n' "${NAME}" "$*" >&2; exit 1; }
kubectl() { "${BIN}/kubectl" --kubeconfig "${KUBECONFIG_PATH}" "$@"; }
ctr() { /usr/bin/ctr --address "${CTRD_SOCK}" --namespace k8s.io "$@"; }

# ---- can this machine run a node? ---------------------------------------------------------------
DEB_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack socat tini gcc libc6-dev)
missing_packages() {
  local p
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || echo "${p}"
  done
}

# Prints why not, one reason per line; prints nothing when a node can run.
why_not() {
  [[ "$(id -u)" == 0 ]] || echo "not root (containerd, mounts and iptables need root)"
  [[ "$(uname -s)" == Linux ]] || echo "not Linux"
  command -v dpkg-query >/dev/null 2>&1 || { echo "not a Debian system (dpkg-query missing)"; return; }
  grep -qw overlay /proc/filesystems 2>/dev/null || modprobe overlay 2>/dev/null ||
    echo "the kernel has no overlay filesystem"
  [[ -d /sys/fs/cgroup ]] || echo "no cgroup filesystem at /sys/fs/cgroup"
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null ||
    echo "no br_netfilter (Service traffic between pods on one bridge needs it)"
  command -v ip >/dev/null 2>&1 || echo "iproute2 (ip) missing"
  command -v apt-get >/dev/null 2>&1 || [[ -z "$(missing_packages)" ]] ||
    echo "Debian packages missing and no apt-get: $(missing_packages | tr '\n' ' ')"
}

cmd_check() {
  local reasons
  reasons="$(why_not)"
  [[ -z "${reasons}" ]] && { echo "a real node can run here"; return 0; }
  echo "a real node cannot run here:" >&2
  printf '  - %s\n' "${reasons}" >&2
  return 1
}

cmd_deps() {
  local missing
  missing="$(missing_packages | tr '\n' ' ')"
  if [[ -n "${missing// /}" ]]; then
    [[ "$(id -u)" == 0 ]] || die "missing Debian packages (${missing}) and not root to install them"
    log "installing Debian packages: ${missing}"
    # shellcheck disable=SC2086
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing}; } \
      >"${TMPDIR:-/tmp}/veloz-node-apt.log" 2>&1 ||
      die "apt-get install ${missing} failed: $(tail -n 5 "${TMPDIR:-/tmp}/veloz-node-apt.log")"
  fi
  "${HACK_DIR}/build-k8s.sh" node coredns
  "${HACK_DIR}/build-node-images.sh"
}

# ---- processes ----------------------------------------------------------------------------------
alive() { [[ -f "${PIDS}/$1.pid" ]] && kill -0 "$(cat "${PIDS}/$1.pid")" 2>/dev/null; }

start_daemon() { # start_daemon NAME CMD... (detached, own session, log and pid file)
  local name="$1"; shift
  mkdir -p "${LOGS}" "${PIDS}"
  # fds 7-9 are locks of the callers: a daemon must not inherit them.
  setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "${PIDS}/${name}.pid" "$@" \
    >>"${LOGS}/${name}.log" 2>&1 </dev/null 7>&- 8>&- 9>&-
  local i
  for i in $(seq 1 50); do [[ -s "${PIDS}/${name}.pid" ]] && return 0; sleep 0.1; done
  die "${name} did not start; see ${LOGS}/${name}.log"
}

wait_for() { # wait_for SECONDS DESCRIPTION LOGNAME CMD...
  local deadline=$((SECONDS + $1)) what="$2" logname="$3"; shift 3
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      [[ -f "${LOGS}/${logname}.log" ]] && tail -n 30 "${LOGS}/${logname}.log" >&2
      die "timed out waiting for ${what}; logs: ${LOGS}/"
    fi
    alive "${logname}" || { tail -n 30 "${LOGS}/${logname}.log" >&2; die "${logname} exited; log: ${LOGS}/${logname}.log"; }
    sleep 0.5
  done
}

# ---- configuration --------------------------------------------------------------------------------
api_port() { kubectl config view -o jsonpath='{.clusters[0].cluster.server}' | sed 's/.*://'; }

write_configs() {
  mkdir -p "${CTRD_DIR}" "${NODE_DIR}/cni/net.d" "${NODE_DIR}/cni/ipam" "${NODE_DIR}/kubelet" \
    "${NODE_DIR}/kube-proxy" "$(dirname "${CTRD_SOCK}")"
  cat >"${CTRD_DIR}/config.toml" <<EOF
# Generated by hack/node.sh
version = 2
root = "${CTRD_DIR}/root"
state = "${CTRD_DIR}/state"
# Only what a kubelet node needs: no aufs/btrfs/zfs/devmapper snapshotters, no tracing.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${CTRD_SOCK}"
[ttrpc]
  address = "${CTRD_SOCK}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  # Nothing can be pulled here: the sandbox image is built locally (hack/build-node-images.sh).
  sandbox_image = "${PAUSE_IMAGE}"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        # cgroup v1 hierarchy here: the cgroupfs driver, as the kubelet below
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${NODE_DIR}/cni/net.d"
    max_conf_num = 1
EOF
  cat >"${NODE_DIR}/cni/net.d/10-veloz.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "veloz",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${NODE_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${NODE_DIR}/cni/ipam",
        "ranges": [[{ "subnet": "${NODE_POD_CIDR}", "gateway": "${NODE_IP}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  # The pods' "Default" DNS policy gets this, not the host's resolvers: nothing leaves the machine.
  : >"${NODE_DIR}/kubelet/resolv.conf"
  cat >"${NODE_DIR}/kubelet/config.yaml" <<EOF
# Generated by hack/node.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
# The API server of the local cluster calls the kubelet (logs, exec) without a client
# certificate; the kubelet listens on the node's bridge address only.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
# This machine has a cgroup v1 hierarchy; Kubernetes 1.35 refuses v1 unless told.
failCgroupV1: false
containerRuntimeEndpoint: unix://${CTRD_SOCK}
clusterDNS: [${NODE_DNS_IP}]
clusterDomain: cluster.local
resolvConf: ${NODE_DIR}/kubelet/resolv.conf
podLogsDir: ${LOGS}/pods
failSwapOn: false
# A development node on a shared machine: evict only when truly short, and never garbage-collect
# the locally built images (they cannot be pulled again).
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
serializeImagePulls: false
registerNode: true
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusReportFrequency: 10s
EOF
  cat >"${NODE_DIR}/kube-proxy/config.yaml" <<EOF
# Generated by hack/node.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${NODE_POD_CIDR}
hostnameOverride: ${NODE_NAME}
clientConnection:
  kubeconfig: ${KUBECONFIG_PATH}
# Leave the machine's conntrack limits alone.
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:${KUBE_PROXY_METRICS_PORT}
healthzBindAddress: 127.0.0.1:${KUBE_PROXY_HEALTHZ_PORT}
nodePortAddresses: [${NODE_IP}/32]
EOF
}

# ---- network --------------------------------------------------------------------------------------
net_up() {
  modprobe br_netfilter 2>/dev/null || true
  # The machine's own values, put back by `down`.
  [[ -f "${NODE_DIR}/sysctl.orig" ]] ||
    printf 'net.ipv4.ip_forward=%s\nnet.bridge.bridge-nf-call-iptables=%s\n' \
      "$(sysctl -n net.ipv4.ip_forward)" "$(sysctl -n net.bridge.bridge-nf-call-iptables)" \
      >"${NODE_DIR}/sysctl.orig"
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  if ! ip link show "${NODE_BRIDGE}" >/dev/null 2>&1; then
    ip link add "${NODE_BRIDGE}" type bridge
  fi
  ip addr replace "${NODE_IP}/${NODE_POD_CIDR#*/}" dev "${NODE_BRIDGE}"
  ip link set "${NODE_BRIDGE}" up
  # Pods talk to each other, to Services and to this machine; nothing they send is forwarded
  # anywhere else (no masquerading either). mangle/FORWARD runs after kube-proxy's DNAT, so
  # Service traffic to pods passes; kube-proxy never touches this table's FORWARD chain.
  iptables -t mangle -C FORWARD -s "${NODE_POD_CIDR}" ! -d "${NODE_POD_CIDR}" -m comment --comment veloz-node -j DROP 2>/dev/null ||
    iptables -t mangle -A FORWARD -s "${NODE_POD_CIDR}" ! -d "${NODE_POD_CIDR}" -m comment --comment veloz-node -j DROP
}

net_down() {
  while iptables -t mangle -D FORWARD -s "${NODE_POD_CIDR}" ! -d "${NODE_POD_CIDR}" -m comment --comment veloz-node -j DROP 2>/dev/null; do :; done
  if [[ -x "${BIN}/kube-proxy" ]]; then
    "${BIN}/kube-proxy" --cleanup >"${TMPDIR:-/tmp}/veloz-kube-proxy-cleanup.log" 2>&1 || true
  fi
  ip link del "${NODE_BRIDGE}" 2>/dev/null || true
  if [[ -f "${NODE_DIR}/sysctl.orig" ]]; then
    sysctl -q -p "${NODE_DIR}/sysctl.orig" >/dev/null 2>&1 || log "could not restore $(tr '\n' ' ' <"${NODE_DIR}/sysctl.orig")"
  fi
  local ns
  # network namespaces of sandboxes that were not torn down (containerd names them cni-*)
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-' || true); do
    ip netns del "${ns}" 2>/dev/null || true
  done
}

# ---- up / down ------------------------------------------------------------------------------------
cmd_up() {
  local t0=$SECONDS
  [[ -f "${KUBECONFIG_PATH}" ]] || die "the cluster ${NAME} is not up (no ${KUBECONFIG_PATH})"
  cmd_check >/dev/null || die "cannot start a real node: $(why_not | paste -sd ';' -) (hack/cluster.sh falls back to kwok with VELOZ_CLUSTER_NODE=auto)"
  # `deps` has run (hack/cluster.sh runs it before building the veloz image); not again here.
  [[ -x "${BIN}/kubelet" && -x "${BIN}/kube-proxy" ]] || die "no kubelet in ${BIN}: run hack/node.sh deps first"
  if alive kubelet && alive containerd && alive kube-proxy; then
    log "already running"
    return 0
  fi
  write_configs
  net_up
  if ! alive containerd; then
    start_daemon containerd /usr/bin/containerd --config "${CTRD_DIR}/config.toml"
    wait_for 60 "containerd" containerd ctr version
  fi
  import_images
  if ! alive apiserver-relay; then
    # The API server listens on loopback only; pods reach it through the \`kubernetes\` Service,
    # whose endpoint (the advertise address) is this relay on the bridge address.
    local port; port="$(api_port)"
    start_daemon apiserver-relay socat "TCP-LISTEN:${port},bind=${NODE_IP},fork,reuseaddr" "TCP:127.0.0.1:${port}"
  fi
  if ! alive hostpath-permissions; then
    # kube-controller-manager's hostPath provisioner (the StorageClass \`standard\`) creates volume
    # directories root-only (0750), and the kubelet applies no fsGroup to hostPath volumes: pods
    # that run as non-root (all of ours) could not write their WAL. Open new ones as
    # local-path-provisioner does (0777), before a pod can use them (the claim binds first).
    start_daemon hostpath-permissions bash -c 'mkdir -p /tmp/hostpath_pv; while :; do
      find /tmp/hostpath_pv -mindepth 1 -maxdepth 1 -type d ! -perm -0777 -exec chmod 0777 {} + 2>/dev/null
      sleep 0.2; done' "${NODE_DIR}"
  fi
  if ! alive kubelet; then
    start_daemon kubelet "${BIN}/kubelet" --config "${NODE_DIR}/kubelet/config.yaml" \
      --kubeconfig "${KUBECONFIG_PATH}" --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}" \
      --root-dir "${NODE_DIR}/kubelet/root" --node-labels "veloz.io/node=real" --v=1
  fi
  if ! alive kube-proxy; then
    start_daemon kube-proxy "${BIN}/kube-proxy" --config "${NODE_DIR}/kube-proxy/config.yaml" --v=1
  fi
  wait_for 120 "node ${NODE_NAME} Ready" kubelet \
    kubectl wait --for=condition=Ready --timeout=2s "node/${NODE_NAME}"
  log "node ${NODE_NAME} Ready ($((SECONDS - t0))s); starting CoreDNS"
  coredns_manifests | kubectl apply --server-side --force-conflicts --field-manager=veloz-node -f - >/dev/null
  wait_for 120 "CoreDNS Ready" kubelet \
    kubectl -n kube-system rollout status deployment/coredns --timeout=2s
  date -u +%FT%TZ >"${NODE_DIR}/ready"
  log "up in $((SECONDS - t0))s: node ${NODE_NAME} (pods on ${NODE_POD_CIDR}, DNS ${NODE_DNS_IP}, containerd ${CTRD_SOCK})"
}

import_images() {
  local tar
  for tar in "${IMAGES_CACHE}"/*.tar; do
    [[ -f "${tar}" ]] || continue
    ctr images import --all-platforms "${tar}" >/dev/null || die "importing ${tar} into containerd failed"
  done
}

cmd_import() {
  [[ -f "${1:-}" ]] || die "usage: hack/node.sh import IMAGE.tar (a docker-archive)"
  alive containerd || die "the node's containerd is not running (hack/node.sh up)"
  ctr images import --all-platforms "$1" | sed 's/^/  /' >&2
}

coredns_manifests() {
  cat <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # Cluster names only: no "forward" plugin, so no query ever leaves this machine.
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        reload
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      containers:
      - name: coredns
        image: ${COREDNS_IMAGE}
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        resources:
          requests: {cpu: 50m, memory: 32Mi}
          limits: {memory: 128Mi}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}, initialDelaySeconds: 10}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: ${NODE_DNS_IP}
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

# PIDs of the processes of pods: everything in a kubepods cgroup (the kubelet's cgroupfs layout).
pod_pids() {
  grep -ls ':/kubepods' /proc/[0-9]*/cgroup 2>/dev/null | sed 's#/proc/\([0-9]*\)/cgroup#\1#' || true
}

stop_daemon() { # stop_daemon NAME
  local f="${PIDS}/$1.pid" pid i
  [[ -f "${f}" ]] || return 0
  pid="$(cat "${f}")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${f}"
}

cmd_down() {
  local pids i m
  # Order: no new pods (kubelet), then the pods themselves, then the runtime.
  stop_daemon kubelet
  stop_daemon kube-proxy
  # containerd's shims for our socket
  pids="$(grep -lsF -- "${CTRD_SOCK}" /proc/[0-9]*/cmdline 2>/dev/null | sed 's#/proc/\([0-9]*\)/cmdline#\1#' | grep -vx "$$" || true)"
  stop_daemon containerd
  [[ -z "${pids}" ]] || kill -KILL ${pids} 2>/dev/null || true
  stop_daemon apiserver-relay
  stop_daemon hostpath-permissions
  for i in $(seq 1 100); do
    pids="$(pod_pids)"
    [[ -n "${pids}" ]] || break
    kill -KILL ${pids} 2>/dev/null || true
    sleep 0.1
  done
  [[ -z "$(pod_pids)" ]] || log "pod processes still running: $(pod_pids | tr '\n' ' ')"
  # Everything mounted under the node's state (volumes, overlay rootfs, shm), deepest first.
  for m in $(awk -v d="${NODE_DIR}/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || log "could not unmount ${m}"
  done
  for m in $(awk -v d="/run/veloz-${NAME}/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "${m}" 2>/dev/null || true
  done
  net_down
  remove_pod_cgroups
  rm -rf -- "${NODE_DIR}" "/run/veloz-${NAME}"
}

# The kubelet's cgroups (kubepods/...) in every v1 controller; empty once the pods are gone.
remove_pod_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "${d}" ]] || continue
    find "${d}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

cmd_status() {
  local n rc=0
  echo "node:       ${NODE_NAME} (real: containerd + kubelet + kube-proxy)"
  for n in containerd apiserver-relay hostpath-permissions kubelet kube-proxy; do
    if alive "${n}"; then printf '  %-26s pid %-8s running\n' "${n}" "$(cat "${PIDS}/${n}.pid")"
    else printf '  %-26s NOT RUNNING\n' "${n}"; rc=1; fi
  done
  return "${rc}"
}

case "${1:-}" in
  check) cmd_check ;;
  deps) cmd_deps ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  import) shift; cmd_import "$@" ;;
  ctr) shift; ctr "$@" ;;
  -h|--help|help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
