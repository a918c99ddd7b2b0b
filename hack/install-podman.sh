#!/usr/bin/env bash
# Install Debian's podman (with netavark and aardvark-dns) and debootstrap, for hack/kind-up.sh on machines without a usable
# Docker (kind's podman provider) and hack/build-kind-node.sh (the node image's rootfs), and tini
# (the init of the `veloz` image that hack/build-image-rootfs.sh builds for the nodes).
#
#   hack/install-podman.sh           install if missing (no-op when both commands exist)
#   hack/install-podman.sh --check   exit 0 if installed, 1 otherwise (installs nothing)
#
# Needs root and apt-get (Debian/Ubuntu). Elsewhere install podman and debootstrap yourself.
set -euo pipefail

log() { printf '[install-podman %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[install-podman] ERROR: %s\n' "$*" >&2; exit 1; }
# netavark and aardvark-dns: the nodes find each other by name (kind's kubeadm join uses the
# control plane's container name), which podman's CNI backend cannot resolve without dnsname.
installed() {
  command -v podman >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 &&
    [[ -x /usr/lib/podman/netavark && -x /usr/lib/podman/aardvark-dns && -x /usr/bin/tini-static ]]
}

case "${1:-}" in
  --check) installed && exit 0; echo "not installed: podman, debootstrap and/or tini" >&2; exit 1 ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown argument $1" ;;
esac
if installed; then log "podman $(podman --version | awk '{print $3}') and debootstrap already installed"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install podman and debootstrap with your package manager"
[[ "$(id -u)" == 0 ]] || die "installing packages needs root (run as root, or install podman and debootstrap yourself)"

exec 9>/tmp/veloz-install-podman.lock
flock 9
installed && exit 0
t0=$SECONDS
log "apt-get update && apt-get install podman debootstrap"
export DEBIAN_FRONTEND=noninteractive
# Other jobs on a shared machine install packages too: wait for dpkg's lock instead of failing
# with "Could not get lock /var/lib/dpkg/lock-frontend".
apt_wait=(-o DPkg::Lock::Timeout=900)
apt-get "${apt_wait[@]}" update -qq
apt-get "${apt_wait[@]}" install -y -qq --no-install-recommends podman debootstrap uidmap slirp4netns fuse-overlayfs \
  containernetworking-plugins netavark aardvark-dns iptables catatonit conmon crun runc tini >/dev/null
log "installed podman $(podman --version | awk '{print $3}') in $((SECONDS - t0))s"
