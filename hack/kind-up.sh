#!/usr/bin/env bash
# kind cluster for the e2e suite: one control plane and two workers (test-e2e/kind-config.yaml).
#
#   hack/kind-up.sh              create the cluster, load the veloz image, print the kubeconfig path
#   hack/kind-up.sh kubeconfig   print the kubeconfig path
#   hack/kind-up.sh down         delete the cluster and everything `up` created or changed
#   hack/kind-up.sh node pause|unpause NODE
#                                freeze a node's container and thaw it (`podman`/`docker pause`):
#                                its kubelet and pods stop, its files and memory stay, so the
#                                cluster loses the node and gets it back as it was
#   hack/kind-up.sh --help       this text
#
# With a working Docker (users' CI) it uses kind's Docker provider and the upstream node image,
# unchanged. Without one (`docker info` fails, as on this project's machines) it uses kind's podman
# provider with Debian's podman (hack/install-podman.sh), the project's own containers.conf and
# storage under VELOZ_KIND_STATE, kind built from the Go module proxy (hack/build-kind.sh) and a
# node image built here (hack/build-kind-node.sh): nothing is pulled from a registry. Both paths
# get stock kind's default StorageClass `standard` (rancher's local-path-provisioner, on the podman
# path built from the Go module proxy): WAL volumes are directories on one node, their PVs carry
# node affinity (a recreated engine goes back to its node), and they cannot be expanded.
#
# As root, `up` also routes the cluster's Service range (test-e2e/kind-config.yaml) and each node's
# pod range to the nodes, so that this host reaches Services and pods as the system suite expects.
#
# Then: KUBECONFIG=$(hack/kind-up.sh kubeconfig) npm run test:e2e
#       VELOZ_SYSTEM_KUBECONFIG=$(hack/kind-up.sh kubeconfig) npx vitest run --project system
# Environment: VELOZ_KIND_CLUSTER (name), VELOZ_KIND_PROVIDER (docker|podman; default: detect),
# VELOZ_KIND_STATE (podman state directory), VELOZ_KIND_RETAIN=1 (keep the nodes of a failed create),
# VELOZ_KIND_NODE_IMAGE (Docker path: an upstream kindest/node image, pinned by digest).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HACK_DIR="${ROOT}/hack"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh" # IMAGES_CACHE

NAME="${VELOZ_KIND_CLUSTER:-veloz-e2e}"
KUBECONFIG_PATH="${ROOT}/.veloz-tmp/kind-${NAME}.kubeconfig"
STATE="${VELOZ_KIND_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/veloz/kind-${NAME}}"
NODE_IMAGE="localhost/veloz/kind-node:${KUBE_VERSION}"

# The header comment above.
usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf '[kind-up %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'kind-up: %s\n' "$*" >&2; exit 1; }

provider="${VELOZ_KIND_PROVIDER:-}"
if [[ -z "${provider}" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then provider=docker; else provider=podman; fi
fi

# Podman with the project's own configuration, never the machine's: the machine's hard limits
# (open files 20,000) are below podman's default ulimits, so every --privileged container fails
# setting RLIMIT_NOFILE/NPROC without these; and all state lives in STATE, which `down` deletes.
podman_env() {
  mkdir -p "${STATE}/storage" "${STATE}/run" "${STATE}/tmp" "${STATE}/networks"
  cat >"${STATE}/containers.conf" <<EOF
# Written by hack/kind-up.sh; deleted by hack/kind-up.sh down.
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=8192:8192"]

[network]
network_backend = "netavark"
network_config_dir = "${STATE}/networks"

[engine]
tmp_dir = "${STATE}/tmp"
# kind runs every node with --cgroupns=private; crun refuses that on a cgroup v1/v2 hybrid host
# ("cgroups in hybrid mode not supported"), runc does not.
runtime = "runc"
EOF
  cat >"${STATE}/storage.conf" <<EOF
# Written by hack/kind-up.sh; deleted by hack/kind-up.sh down.
[storage]
driver = "overlay"
graphroot = "${STATE}/storage"
runroot = "${STATE}/run"
EOF
  export CONTAINERS_CONF="${STATE}/containers.conf" CONTAINERS_STORAGE_CONF="${STATE}/storage.conf"
  export KIND_EXPERIMENTAL_PROVIDER=podman
}

# The host settings a container engine may change: recorded once before the first `up`,
# restored by `down` (dockerd and podman's CNI plugins set the FORWARD policy and ip_forward).
record_host() {
  [[ -f "${STATE}/host.orig" ]] && return 0
  mkdir -p "${STATE}"
  {
    printf 'ip_forward=%s\n' "$(sysctl -n net.ipv4.ip_forward)"
    printf 'forward_policy=%s\n' "$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3; exit }')"
  } >"${STATE}/host.orig.tmp"
  mv "${STATE}/host.orig.tmp" "${STATE}/host.orig"
  # kind's podman provider mounts /lib/modules into every node; a host without modules (this
  # project's machines) gets an empty directory, removed again by `down`.
  if [[ ! -e /lib/modules ]]; then
    mkdir /lib/modules
    echo "created_lib_modules=1" >>"${STATE}/host.orig"
  fi
}
restore_host() {
  [[ -f "${STATE}/host.orig" ]] || return 0
  local ip_forward policy
  ip_forward="$(sed -n 's/^ip_forward=//p' "${STATE}/host.orig")"
  policy="$(sed -n 's/^forward_policy=//p' "${STATE}/host.orig")"
  [[ -z "${ip_forward}" ]] || sysctl -qw "net.ipv4.ip_forward=${ip_forward}" || log "could not restore net.ipv4.ip_forward=${ip_forward}"
  [[ -z "${policy}" ]] || iptables -P FORWARD "${policy}" || log "could not restore the iptables FORWARD policy ${policy}"
  if grep -qx 'created_lib_modules=1' "${STATE}/host.orig"; then rmdir /lib/modules 2>/dev/null || log "/lib/modules is not empty; left in place"; fi
}

# The system suite (test-e2e/system) calls gateways at their Service's ClusterIP and engines at their
# pod IP from this host, as on the local cluster: the Service range goes to the control plane node,
# whose kube-proxy forwards (and masquerades) it, and each node's pod range to that node. Adding
# routes needs root: without them only that suite cannot reach the pods. `down` deletes them.
SERVICE_SUBNET="$(sed -n 's/^ *serviceSubnet: *//p' "${ROOT}/test-e2e/kind-config.yaml")"
ROUTES="${ROOT}/.veloz-tmp/kind-${NAME}.routes"
route_cluster() {
  local cidr via
  [[ "${EUID}" -eq 0 ]] || { log "not root: no routes to the cluster's Services and pods; the system suite cannot reach them"; return 0; }
  # "<pod range> <node address>" per node, then the Services through the control plane's address.
  "${provider}" exec "${NAME}-control-plane" kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o \
    jsonpath='{range .items[*]}{.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' |
    awk -v svc="${SERVICE_SUBNET}" 'NF == 2 { print; if (!cp) cp = $2 } END { if (cp) print svc, cp }' >"${ROUTES}.new"
  while read -r cidr via; do
    ip route replace "${cidr}" via "${via}" || die "ip route replace ${cidr} via ${via} failed"
    echo "${cidr}" >>"${ROUTES}"
  done <"${ROUTES}.new"
  rm -f "${ROUTES}.new"
  grep -q "^${SERVICE_SUBNET}\$" "${ROUTES}" 2>/dev/null || die "no node address to route ${SERVICE_SUBNET} through"
}
unroute_cluster() {
  local cidr
  [[ -f "${ROUTES}" ]] || return 0
  sort -u "${ROUTES}" | while read -r cidr; do
    [[ -z "$(ip route show "${cidr}" 2>/dev/null)" ]] || ip route del "${cidr}" || log "could not delete the route to ${cidr}"
  done
  rm -f "${ROUTES}"
}

case "${1:-up}" in
  up)
    if [[ "${provider}" == docker ]]; then
      # kind from PATH, else the pinned one built from the Go module proxy (needs Go).
      if command -v kind >/dev/null; then KIND=kind; else
        "${HACK_DIR}/build-kind.sh"
        KIND="$("${HACK_DIR}/build-kind.sh" --print-bin)"
      fi
      # An upstream node image, pinned by digest as kind's release notes ask (CI's matrix).
      image_args=(${VELOZ_KIND_NODE_IMAGE:+--image "${VELOZ_KIND_NODE_IMAGE}"})
    else
      "${HACK_DIR}/install-podman.sh"
      "${HACK_DIR}/build-kind.sh"
      KIND="$("${HACK_DIR}/build-kind.sh" --print-bin)"
      record_host
      podman_env
      # The node image's Kubernetes binaries (a no-op when built; waits for a concurrent build).
      "${HACK_DIR}/build-k8s.sh" kubernetes node etcd coredns kubeadm
      "${HACK_DIR}/build-kind-node.sh"
      if ! podman image exists "${NODE_IMAGE}"; then
        log "loading ${NODE_IMAGE} into podman"
        podman load -q -i "$("${HACK_DIR}/build-kind-node.sh" --print-tar)" >/dev/null
      fi
      image_args=(--image "${NODE_IMAGE}")
    fi
    if ! "${KIND}" get clusters 2>/dev/null | grep -qx "${NAME}"; then
      "${KIND}" create cluster --name "${NAME}" --config "${ROOT}/test-e2e/kind-config.yaml" "${image_args[@]}" \
        ${VELOZ_KIND_RETAIN:+--retain} --wait 300s
    fi
    mkdir -p "$(dirname "${KUBECONFIG_PATH}")"
    "${KIND}" get kubeconfig --name "${NAME}" >"${KUBECONFIG_PATH}"
    version="$(node -p "require('${ROOT}/package.json').version")"
    if [[ "${provider}" == docker ]]; then
      "${HACK_DIR}/build-image.sh"
      "${KIND}" load docker-image "veloz:${version}" --name "${NAME}"
    else
      # No engine builds the image here: the docker-archive of hack/build-image-rootfs.sh goes
      # straight into each node's containerd (kind load would need crictl in the node).
      VELOZ_IMAGE_BUILDER=rootfs "${HACK_DIR}/build-image.sh" >&2
      pids=()
      for node in $("${KIND}" get nodes --name "${NAME}"); do
        podman exec -i "${node}" ctr --namespace=k8s.io images import - <"${IMAGES_CACHE}/veloz.tar" >/dev/null &
        pids+=("$!:${node}")
      done
      for p in "${pids[@]}"; do
        wait "${p%%:*}" || die "importing veloz:${version} into ${p#*:} failed"
      done
    fi
    route_cluster
    echo "${KUBECONFIG_PATH}"
    ;;
  kubeconfig)
    echo "${KUBECONFIG_PATH}"
    ;;
  node)
    action="${2:-}"
    node="${3:-}"
    [[ "${action}" == pause || "${action}" == unpause ]] || die "node: expected pause or unpause, got '${action}' (see --help)"
    [[ -n "${node}" ]] || die "node ${action}: name a node container (kubectl get nodes)"
    if [[ "${provider}" == podman ]]; then
      [[ -d "${STATE}" ]] || die "no podman state in ${STATE}: is the cluster up?"
      podman_env
    fi
    "${provider}" "${action}" "${node}" >/dev/null || die "${provider} ${action} ${node} failed"
    log "${action}d node ${node}"
    ;;
  -h | --help | help)
    usage
    ;;
  down)
    unroute_cluster
    if [[ "${provider}" == docker ]]; then
      if command -v kind >/dev/null; then kind delete cluster --name "${NAME}"; else "$("${HACK_DIR}/build-kind.sh" --print-bin)" delete cluster --name "${NAME}"; fi
    else
      if [[ -d "${STATE}" ]]; then
        podman_env
        KIND="$("${HACK_DIR}/build-kind.sh" --print-bin)"
        [[ ! -x "${KIND}" ]] || "${KIND}" delete cluster --name "${NAME}" || log "kind delete cluster failed; removing the containers with podman"
        podman rm -af -t 5 >/dev/null 2>&1 || true
        podman system reset -f >/dev/null 2>&1 || true
        restore_host
        # What a killed podman left mounted (container shm, overlay layers) would block the rm.
        awk -v s="${STATE}/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
        rm -rf -- "${STATE}"
      fi
    fi
    rm -f "${KUBECONFIG_PATH}"
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
