#!/usr/bin/env bash
# Build a kind node image here, with no registry: a Debian bookworm root filesystem
# (debootstrap) with systemd, Debian's containerd and runc, the pinned Kubernetes binaries of
# hack/build-k8s.sh (kubelet, kubeadm, kubectl) and the images kubeadm starts (control plane,
# etcd, pause, CoreDNS, kube-proxy) and the default storage (local-path-provisioner of
# hack/build-local-path-provisioner.sh, its busybox helper) already in /kind/images, as a
# podman-loadable docker-archive.
#
#   hack/build-kind-node.sh               build what is missing (each stage cached by signature)
#   hack/build-kind-node.sh --print-tar   print the path of the node image tar and exit
#   hack/build-kind-node.sh --check       exit 0 if the image tar is current, 1 otherwise
#
# The image is named localhost/veloz/kind-node:<KUBE_VERSION>; hack/kind-up.sh loads it into podman.
# Environment: VELOZ_KIND_NODE_CACHE (cache dir), DEBIAN_MIRROR, VELOZ_BUILD_FORCE=1.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.env
source "${HACK_DIR}/versions.env"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh"

CACHE="${VELOZ_KIND_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/veloz/kind-node-${KUBE_VERSION}}"
BIN="${VELOZ_K8S_CACHE}/bin"
FILES="${HACK_DIR}/kind-node"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
IMAGE="localhost/veloz/kind-node:${KUBE_VERSION}"
OUT="${CACHE}/kind-node.tar"
# What kind's own base image installs, from Debian instead of source builds: containerd and runc
# (Debian's, as on the local real node), the CNI plugins (ptp, host-local, portmap, loopback);
# busybox-static is the shell of local-path-provisioner's helper pods (its own image, below).
PACKAGES=(systemd systemd-sysv dbus containerd runc containernetworking-plugins iptables nftables
  conntrack iproute2 ethtool util-linux mount kmod libseccomp2 ca-certificates procps socat
  e2fsprogs bash busybox-static)
# kubeadm's image names (`kubeadm config images list`), so kubeadm and the kubelet find them.
REGISTRY=registry.k8s.io
PAUSE_TAG=3.10.1

log() { printf '[kind-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[kind-node] ERROR: %s\n' "$*" >&2; exit 1; }
force() { [[ "${VELOZ_BUILD_FORCE:-0}" == 1 ]]; }
timed() { # timed NAME CMD...: run and append the time to build-times.txt
  local t0=$SECONDS
  "${@:2}"
  printf '%s %s %ss (%s cores)\n' "$(date -u +%FT%TZ)" "$1" "$((SECONDS - t0))" "$(nproc)" >>"${CACHE}/build-times.txt"
  log "$1: $((SECONDS - t0))s"
}
filesig() { cat "$@" | sha256sum | cut -d' ' -f1; }

sig_rootfs() { echo "debootstrap ${SUITE} ${MIRROR} ${PACKAGES[*]} v1"; }
sig_image() {
  echo "$(sig_rootfs) kube=$(filesig "${BIN}/kubelet" "${BIN}/kubeadm" "${BIN}/kubectl")" \
    "images=$(filesig "${CACHE}"/images/*.tar) files=$(cd "${FILES}" && find . -type f | sort | xargs cat | sha256sum | cut -d' ' -f1) v1"
}

case "${1:-}" in
  --print-tar) echo "${OUT}"; exit 0 ;;
  --check) [[ -s "${OUT}" && -f "${OUT}.sig" ]] && exit 0; echo "not built: ${OUT}" >&2; exit 1 ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown argument $1" ;;
esac
[[ "$(id -u)" == 0 ]] || die "debootstrap and chroot need root"
command -v debootstrap >/dev/null || die "debootstrap is missing (hack/install-podman.sh installs it)"
mkdir -p "${CACHE}"
exec 9>"${CACHE}/.build.lock"
flock 9

# ---- stage 1: the Debian root filesystem --------------------------------------------------------
ROOTFS="${CACHE}/rootfs"
build_rootfs() {
  rm -rf -- "${ROOTFS}.tmp"
  log "debootstrap ${SUITE} (${#PACKAGES[@]} packages) from ${MIRROR}; log: ${CACHE}/debootstrap.log"
  if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" "${SUITE}" "${ROOTFS}.tmp" "${MIRROR}" \
    >"${CACHE}/debootstrap.log" 2>&1; then
    tail -n 20 "${CACHE}/debootstrap.log" >&2
    die "debootstrap failed; see ${CACHE}/debootstrap.log"
  fi
  rm -rf "${ROOTFS}.tmp"/var/cache/apt/archives/*.deb "${ROOTFS}.tmp"/var/lib/apt/lists/*
  rm -rf -- "${ROOTFS}"
  mv "${ROOTFS}.tmp" "${ROOTFS}"
  sig_rootfs >"${CACHE}/rootfs.sig"
}
if force || [[ ! -f "${CACHE}/rootfs.sig" || "$(cat "${CACHE}/rootfs.sig")" != "$(sig_rootfs)" ]]; then
  timed rootfs build_rootfs
fi

[[ "${VELOZ_KIND_NODE_STAGE:-}" != rootfs ]] || exit 0

# ---- stage 2: the images kubeadm starts -------------------------------------------------------
for b in kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns; do
  [[ -x "${BIN}/${b}" ]] || die "${BIN}/${b} is not built (hack/build-k8s.sh kubernetes node etcd coredns kubeadm)"
done
# The default StorageClass's provisioner (a no-op when built; its own cache and lock).
"${HACK_DIR}/build-local-path-provisioner.sh"
LOCAL_PATH_BIN="$("${HACK_DIR}/build-local-path-provisioner.sh" --print-bin)"
LOCAL_PATH_IMAGE="localhost/veloz/local-path-provisioner:${LOCAL_PATH_PROVISIONER_VERSION}"
LOCAL_PATH_HELPER_IMAGE="localhost/veloz/local-path-helper:busybox"
IMG="${CACHE}/images"
mkdir -p "${IMG}"
binary_image() { # binary_image NAME REF ENTRYPOINT BINARY...: the binaries in /usr/local/bin, nothing else
  local name="$1" ref="$2" entrypoint="$3" sig work b
  shift 3
  sig="${ref} ${entrypoint} $(filesig "$@") v1"
  force || ! fresh "${IMG}/${name}.tar" "${sig}" || return 0
  work="$(mktemp -d)"
  mkdir -p "${work}/usr/local/bin" "${work}/tmp" "${work}/etc"
  chmod 1777 "${work}/tmp"
  for b in "$@"; do cp "${b}" "${work}/usr/local/bin/"; done
  # CoreDNS reads /etc/resolv.conf of the pod (the kubelet mounts it); etcd and the control plane
  # need nothing else: they are static Go binaries (CGO_ENABLED=0).
  docker_archive "${IMG}/${name}.tar" "${ref}" "${work}" \
    "{\"Entrypoint\":${entrypoint},\"Env\":[\"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\"]}"
  echo "${sig}" >"${IMG}/${name}.tar.sig"
  rm -rf -- "${work}"
  log "built ${ref}"
}
# kube-proxy runs iptables: its image carries the binary plus Debian's iptables/nft and the
# libraries they load, taken from the node's own root filesystem.
kube_proxy_image() {
  local ref="${REGISTRY}/kube-proxy:${KUBE_VERSION}" sig work f
  sig="${ref} $(filesig "${BIN}/kube-proxy" "${CACHE}/rootfs.sig") v1"
  force || ! fresh "${IMG}/kube-proxy.tar" "${sig}" || return 0
  work="$(mktemp -d)"
  mkdir -p "${work}/usr/local/bin"
  cp "${BIN}/kube-proxy" "${work}/usr/local/bin/"
  local pkgs=(iptables nftables conntrack libc6 libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0
    libnetfilter-conntrack3 libnfnetlink0 libnftables1 libjansson4 libgmp10 libedit2 libbsd0 libmd0
    libtinfo6 libnetfilter-cttimeout1 libnetfilter-cthelper0 libnetfilter-queue1 dash)
  for f in $(chroot "${ROOTFS}" dpkg -L "${pkgs[@]}" 2>/dev/null | sort -u); do
    [[ ! -d "${ROOTFS}${f}" ]] && [[ -f "${ROOTFS}${f}" || -L "${ROOTFS}${f}" ]] || continue
    [[ "${f}" == /usr/share/* ]] && continue
    mkdir -p "${work}$(dirname "${f}")"
    cp -a "${ROOTFS}${f}" "${work}${f}"
  done
  # Debian's alternatives: iptables is iptables-nft, as on the node.
  for f in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf "xtables-nft-multi" "${work}/usr/sbin/${f}"
  done
  ln -sf dash "${work}/bin/sh"
  for f in lib lib64 bin sbin; do [[ -e "${work}/${f}" ]] || ln -s "usr/${f}" "${work}/${f}"; done
  docker_archive "${IMG}/kube-proxy.tar" "${ref}" "${work}" '{"Env":["PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
  echo "${sig}" >"${IMG}/kube-proxy.tar.sig"
  rm -rf -- "${work}"
  log "built ${ref}"
}
# local-path-provisioner's helper pods run `sh /script/setup` (mkdir) and `sh /script/teardown`
# (rm -rf) in the volume's parent directory: Debian's busybox-static from the node's own root
# filesystem is that shell, with no library to carry.
local_path_helper_image() {
  local ref="${LOCAL_PATH_HELPER_IMAGE}" sig work a
  [[ -x "${ROOTFS}/bin/busybox" ]] || die "${ROOTFS}/bin/busybox is missing (busybox-static in the root filesystem)"
  sig="${ref} $(filesig "${ROOTFS}/bin/busybox") v1"
  force || ! fresh "${IMG}/local-path-helper.tar" "${sig}" || return 0
  work="$(mktemp -d)"
  mkdir -p "${work}/bin" "${work}/tmp"
  chmod 1777 "${work}/tmp"
  cp "${ROOTFS}/bin/busybox" "${work}/bin/busybox"
  for a in sh mkdir rm ls chmod; do ln -s busybox "${work}/bin/${a}"; done
  docker_archive "${IMG}/local-path-helper.tar" "${ref}" "${work}" '{"Env":["PATH=/bin"]}'
  echo "${sig}" >"${IMG}/local-path-helper.tar.sig"
  rm -rf -- "${work}"
  log "built ${ref}"
}
pause_image() {
  local ref="${REGISTRY}/pause:${PAUSE_TAG}" src sig work
  src="${IMAGES_CACHE}/pause.tar"
  [[ -s "${src}" ]] || "${HACK_DIR}/build-node-images.sh"
  sig="${ref} $(filesig "${src}") v1"
  force || ! fresh "${IMG}/pause.tar" "${sig}" || return 0
  work="$(mktemp -d)"
  tar -xf "${src}" -C "${work}"
  tar -xf "${work}"/*/layer.tar -C "${work}" ./pause 2>/dev/null || tar -xf "$(ls "${work}"/*/layer.tar)" -C "${work}" pause
  mkdir -p "${work}/rootfs" && mv "${work}/pause" "${work}/rootfs/pause"
  docker_archive "${IMG}/pause.tar" "${ref}" "${work}/rootfs" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  echo "${sig}" >"${IMG}/pause.tar.sig"
  rm -rf -- "${work}"
  log "built ${ref}"
}
build_images() {
  # kubeadm's static pods and kube-proxy name their command; CoreDNS's Deployment only passes args.
  binary_image kube-apiserver "${REGISTRY}/kube-apiserver:${KUBE_VERSION}" null "${BIN}/kube-apiserver"
  binary_image kube-controller-manager "${REGISTRY}/kube-controller-manager:${KUBE_VERSION}" null "${BIN}/kube-controller-manager"
  binary_image kube-scheduler "${REGISTRY}/kube-scheduler:${KUBE_VERSION}" null "${BIN}/kube-scheduler"
  binary_image etcd "${REGISTRY}/etcd:${KUBEADM_ETCD_TAG}" null "${BIN}/etcd"
  binary_image coredns "${REGISTRY}/coredns/coredns:${KUBEADM_COREDNS_TAG}" '["/usr/local/bin/coredns"]' "${BIN}/coredns"
  kube_proxy_image
  pause_image
  # The Deployment names its command (local-path-provisioner, found through the image's PATH).
  binary_image local-path-provisioner "${LOCAL_PATH_IMAGE}" null "${LOCAL_PATH_BIN}"
  local_path_helper_image
}
# The tags kubeadm asks for are its own constants: read them from kubeadm rather than pin twice.
KUBEADM_IMAGES="$("${BIN}/kubeadm" config images list --kubernetes-version "${KUBE_VERSION}" 2>/dev/null)" ||
  die "kubeadm config images list failed"
KUBEADM_ETCD_TAG="$(sed -n 's|.*/etcd:||p' <<<"${KUBEADM_IMAGES}")"
KUBEADM_COREDNS_TAG="$(sed -n 's|.*/coredns/coredns:||p' <<<"${KUBEADM_IMAGES}")"
PAUSE_TAG="$(sed -n 's|.*/pause:||p' <<<"${KUBEADM_IMAGES}")"
timed images build_images

# ---- stage 3: the node image --------------------------------------------------------------------
build_node() {
  local work="${CACHE}/node.tmp"
  rm -rf -- "${work}"
  log "assembling the node root filesystem"
  cp -a "${ROOTFS}" "${work}"
  install -m 0755 "${BIN}/kubelet" "${BIN}/kubeadm" "${BIN}/kubectl" "${work}/usr/bin/"
  cp -a "${FILES}/." "${work}/"
  mkdir -p "${work}/kind/images" "${work}/etc/kubernetes/manifests" "${work}/opt/cni/bin"
  cp "${IMG}"/*.tar "${work}/kind/images/"
  echo "${KUBE_VERSION}" >"${work}/kind/version"
  sed -i "s|@PAUSE_IMAGE@|${REGISTRY}/pause:${PAUSE_TAG}|" "${work}/etc/containerd/config.toml"
  sed -i "s|@LOCAL_PATH_PROVISIONER_IMAGE@|${LOCAL_PATH_IMAGE}|; s|@LOCAL_PATH_HELPER_IMAGE@|${LOCAL_PATH_HELPER_IMAGE}|" \
    "${work}/kind/manifests/default-storage.yaml"
  # kind's CNI manifests name /opt/cni/bin; Debian installs the plugins in /usr/lib/cni.
  for f in "${work}"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/$(basename "${f}")" "${work}/opt/cni/bin/"; done
  # As in kind's base image: only the units a node needs start; systemd in a container never
  # manages udev, kernel modules, binfmt or getty.
  rm -f "${work}"/etc/systemd/system/*.wants/* "${work}"/lib/systemd/system/multi-user.target.wants/*
  find "${work}/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "${work}"/lib/systemd/system/local-fs.target.wants/* "${work}"/lib/systemd/system/basic.target.wants/*
  rm -f "${work}"/lib/systemd/system/sockets.target.wants/*udev* "${work}"/lib/systemd/system/sockets.target.wants/*initctl*
  echo "ReadKMsg=no" >>"${work}/etc/systemd/journald.conf"
  chroot "${work}" systemctl enable containerd.service kubelet.service veloz-kind-images.service veloz-kind-cni.service >/dev/null 2>&1
  chroot "${work}" systemctl mask systemd-binfmt.service getty.target systemd-udevd.service systemd-modules-load.service >/dev/null 2>&1
  chroot "${work}" systemctl set-default multi-user.target >/dev/null 2>&1
  : >"${work}/etc/machine-id"
  chmod 0755 "${work}"/usr/local/bin/veloz-kind-*
  docker_archive "${OUT}" "${IMAGE}" "${work}" \
    '{"Entrypoint":["/usr/local/bin/veloz-kind-entrypoint","/sbin/init"],"Env":["container=docker","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"StopSignal":"SIGRTMIN+3"}'
  rm -rf -- "${work}"
  sig_image >"${OUT}.sig"
}
if force || [[ ! -s "${OUT}" || ! -f "${OUT}.sig" || "$(cat "${OUT}.sig")" != "$(sig_image)" ]]; then
  timed node-image build_node
else
  log "${IMAGE} is current: ${OUT}"
fi
