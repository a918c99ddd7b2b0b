#!/usr/bin/env bash
# SIG Network's NetworkPolicy enforcer, kube-network-policies (NETPOL_VERSION, built from the Go
# module proxy by hack/build-netpol.sh), on the real node of hack/node.sh: what makes the local
# cluster enforce NetworkPolicies for test-e2e/system/network-policy.test.ts.
#
#   hack/netpol.sh check   exit 0 if it can run here, else say why (exit 1)
#   hack/netpol.sh up      build (cached) and import its image, run it as a DaemonSet on the node,
#                          install the packet steering rules; idempotent
#   hack/netpol.sh down    remove the steering rules, the DaemonSet and its RBAC
#   hack/netpol.sh rules   print the steering rules as installed (iptables -S)
#
# Upstream sends the first packet of every connection to its userspace policy engine with an
# nftables `queue` rule, which this kernel cannot load (built without CONFIG_NFT_QUEUE). The same
# kernel queue is reachable through the xtables NFQUEUE target (CONFIG_NETFILTER_XT_TARGET_NFQUEUE),
# so the enforcer runs unchanged (its own nftables table fails to load, which it logs and does not
# treat as fatal) and this script installs the equivalent steering rules with iptables: new
# connections from or to a pod, not sent by root on the node (upstream's `meta skuid 0 accept`:
# kubelet probes), in POSTROUTING before source NAT, to queue NETPOL_QUEUE. Every verdict, accept
# or drop, is the enforcer's own. `--queue-bypass` lets packets through while no enforcer listens,
# so a crashed enforcer cannot cut the shared node off; the test checks the enforcer's drop counter.
# Environment: VELOZ_CLUSTER_NAME, VELOZ_CLUSTER_STATE (as hack/node.sh).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/node.env
source "${HACK_DIR}/node.env"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh"

NAME="${VELOZ_CLUSTER_NAME:-veloz}"
STATE="${VELOZ_CLUSTER_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/veloz/cluster-${NAME}}"
KUBECONFIG_PATH="${STATE}/kubeconfig"
BIN="${VELOZ_K8S_CACHE}/bin"
IMAGE="veloz.local/kube-network-policies:${NETPOL_VERSION}"
TAR="${IMAGES_CACHE}/kube-network-policies.tar"
CHAIN=VELOZ-NETPOL
# Upstream's default queue number is 100; its metrics listen on the node's loopback only.
NETPOL_QUEUE=100
NETPOL_METRICS=127.0.0.1:19080

log() { printf '[netpol %s %s] %s\n' "${NAME}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[netpol %s] ERROR: %s\n' "${NAME}" "$*" >&2; exit 1; }
kubectl() { "${BIN}/kubectl" --kubeconfig "${KUBECONFIG_PATH}" "$@"; }

why_not() {
  [[ "$(id -u)" == 0 ]] || echo "not root (iptables needs root)"
  command -v iptables >/dev/null 2>&1 || echo "iptables missing (hack/node.sh deps installs it)"
  if [[ -r /proc/config.gz ]]; then
    local opt config
    config="$(zcat /proc/config.gz)"
    for opt in CONFIG_NETFILTER_NETLINK_QUEUE CONFIG_NETFILTER_XT_TARGET_NFQUEUE CONFIG_NETFILTER_XT_MATCH_CONNTRACK CONFIG_NETFILTER_XT_MATCH_OWNER; do
      grep -Eq "^${opt}=(y|m)$" <<<"${config}" || echo "the kernel lacks ${opt}"
    done
  fi
}

cmd_check() {
  local reasons
  reasons="$(why_not)"
  [[ -z "${reasons}" ]] && { echo "kube-network-policies can enforce NetworkPolicies here"; return 0; }
  echo "kube-network-policies cannot run here:" >&2
  sed 's/^/  - /' <<<"${reasons}" >&2
  return 1
}

build_image() {
  local bin sig work
  "${HACK_DIR}/build-netpol.sh"
  bin="$("${HACK_DIR}/build-netpol.sh" --print-bin)"
  sig="${IMAGE} $(sha256sum "${bin}" | cut -d' ' -f1) v1"
  fresh "${TAR}" "${sig}" && return 0
  work="$(mktemp -d)"
  mkdir -p "${work}/rootfs/bin"
  cp "${bin}" "${work}/rootfs/bin/netpol"
  docker_archive "${TAR}" "${IMAGE}" "${work}/rootfs" '{"Entrypoint":["/bin/netpol"]}'
  echo "${sig}" >"${TAR}.sig"
  rm -rf -- "${work}"
  log "built ${IMAGE} -> ${TAR}"
}

manifests() {
  cat <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-network-policies, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kube-network-policies}
rules:
  - {apiGroups: [""], resources: [pods, namespaces], verbs: [list, watch]}
  - {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-network-policies}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-network-policies}
subjects: [{kind: ServiceAccount, name: kube-network-policies, namespace: kube-system}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-network-policies
  namespace: kube-system
  labels: {app: kube-network-policies}
spec:
  selector: {matchLabels: {app: kube-network-policies}}
  template:
    metadata: {labels: {app: kube-network-policies}}
    spec:
      hostNetwork: true
      serviceAccountName: kube-network-policies
      tolerations: [{operator: Exists, effect: NoSchedule}]
      containers:
        - name: kube-network-policies
          image: ${IMAGE}
          imagePullPolicy: Never
          # As upstream's install.yaml, less NRI (the node's containerd does not enable it; pod
          # IPs come from the API server) and the DNS workaround (not needed on kernels 6.12+).
          args:
            - --hostname-override=\$(MY_NODE_NAME)
            - --v=2
            - --nfqueue-id=${NETPOL_QUEUE}
            - --disable-nri
            - --netfilter-bug-1766-fix=false
            - --metrics-bind-address=${NETPOL_METRICS}
          env:
            - name: MY_NODE_NAME
              valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
          resources: {requests: {cpu: 20m, memory: 50Mi}}
          securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}
EOF
}

# The steering rules, beside kube-proxy's and the bridge plugin's in the node's network namespace.
install_rules() {
  iptables -t mangle -N "${CHAIN}" 2>/dev/null || iptables -t mangle -F "${CHAIN}"
  iptables -t mangle -A "${CHAIN}" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  iptables -t mangle -A "${CHAIN}" -m owner --uid-owner 0 -j RETURN
  iptables -t mangle -A "${CHAIN}" -s "${NODE_POD_CIDR}" -j NFQUEUE --queue-num "${NETPOL_QUEUE}" --queue-bypass
  iptables -t mangle -A "${CHAIN}" -d "${NODE_POD_CIDR}" -j NFQUEUE --queue-num "${NETPOL_QUEUE}" --queue-bypass
  iptables -t mangle -C POSTROUTING -j "${CHAIN}" 2>/dev/null || iptables -t mangle -A POSTROUTING -j "${CHAIN}"
}

remove_rules() {
  while iptables -t mangle -D POSTROUTING -j "${CHAIN}" 2>/dev/null; do :; done
  iptables -t mangle -F "${CHAIN}" 2>/dev/null || true
  iptables -t mangle -X "${CHAIN}" 2>/dev/null || true
}

cmd_up() {
  cmd_check >/dev/null || { cmd_check; exit 1; }
  [[ -s "${KUBECONFIG_PATH}" ]] || die "cluster ${NAME} is not up (no ${KUBECONFIG_PATH})"
  build_image
  "${HACK_DIR}/node.sh" import "${TAR}"
  manifests | kubectl apply -f - >/dev/null
  kubectl -n kube-system rollout status daemonset/kube-network-policies --timeout=180s >/dev/null ||
    { kubectl -n kube-system logs daemonset/kube-network-policies --tail=30 >&2 || true; die "kube-network-policies did not start"; }
  # Rules only once the enforcer listens on the queue, so no connection waits for it.
  local i
  for i in $(seq 1 60); do
    grep -Eq "^ *${NETPOL_QUEUE} " /proc/net/netfilter/nfnetlink_queue 2>/dev/null && break
    sleep 1
  done
  grep -Eq "^ *${NETPOL_QUEUE} " /proc/net/netfilter/nfnetlink_queue ||
    die "kube-network-policies does not listen on queue ${NETPOL_QUEUE} (/proc/net/netfilter/nfnetlink_queue)"
  install_rules
  log "kube-network-policies ${NETPOL_VERSION} enforces NetworkPolicies on ${NAME}-node (queue ${NETPOL_QUEUE}, metrics http://${NETPOL_METRICS}/metrics)"
}

cmd_down() {
  remove_rules
  if [[ -s "${KUBECONFIG_PATH}" ]]; then
    manifests | kubectl delete --ignore-not-found --wait=false -f - >/dev/null 2>&1 || true
  fi
  log "kube-network-policies removed"
}

case "${1:-}" in
  check) cmd_check ;;
  up) cmd_up ;;
  down) cmd_down ;;
  rules) iptables -t mangle -S "${CHAIN}" ;;
  -h|--help|help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
