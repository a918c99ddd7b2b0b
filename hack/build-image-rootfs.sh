#!/usr/bin/env bash
# Builds the `veloz` image without Docker: the same contents as the Dockerfile, assembled as a root
# filesystem and written as a docker-archive tar (loadable with `docker load` and
# `ctr images import`). Used by hack/build-image.sh where no container engine runs.
#
#   hack/build-image-rootfs.sh [OUT.tar]     default: the image cache's veloz.tar
#
# The image: the pinned Node 24 binary (node_modules/node) and the shared libraries it links,
# tini (Debian's static build) as PID 1, production dependencies of the runtime workspaces, the
# files of hack/image-contents.txt under /app stripped to JavaScript (scripts/strip-types.ts), user
# 10001, entrypoint `tini -- node veloz.js`.
# Rebuilt only when one of those inputs changed.
set -euo pipefail
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HACK_DIR}/.." && pwd)"
# shellcheck source=hack/lib/docker-archive.sh
source "${HACK_DIR}/lib/docker-archive.sh"
cd "${ROOT}"

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[image] ERROR: %s\n' "$*" >&2; exit 1; }

version=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' package.json | head -n1)
run_as=$(sed -n 's/.*RUN_AS = \([0-9]*\).*/\1/p' cdk8s/api/src/names.ts | head -n1)
[[ -n "${version}" && -n "${run_as}" ]] || die "cannot read the version (package.json) or RUN_AS (cdk8s/api/src/names.ts)"
image="${VELOZ_IMAGE:-veloz:${version}}"
out="${1:-${IMAGES_CACHE}/veloz.tar}"

node_bin="$(readlink -f node_modules/node/bin/node 2>/dev/null || true)"
[[ -x "${node_bin}" ]] || die "node_modules/node/bin/node is missing: run npm ci first (the image ships the pinned Node)"
tini=/usr/bin/tini-static
[[ -x "${tini}" ]] || die "${tini} is missing (Debian package tini; hack/node.sh deps installs it)"

mapfile -t contents < <(grep -v '^[[:space:]]*\(#\|$\)' hack/image-contents.txt)
# .dockerignore's patterns that apply inside the copied paths, as tar excludes.
excludes=(--exclude='node_modules' --exclude='*.test.ts' --exclude='__snapshots__' --exclude='bench' --exclude='.veloz-tmp' --exclude='coverage')

# The signature of every input: a changed file, lockfile, Node or tini rebuilds the image.
sig="$( {
  echo "v1 ${image} ${run_as}"
  # contents only (not the paths: another clone of the same sources reuses the image)
  sha256sum "${node_bin}" "${tini}" package-lock.json hack/image-contents.txt "$0" hack/lib/docker-archive.sh \
    scripts/strip-types.ts |
    cut -d' ' -f1
  tar "${excludes[@]}" --sort=name --mtime=@0 --owner=0 --group=0 -cf - "${contents[@]}" | sha256sum
} | sha256sum | cut -d' ' -f1)"
if fresh "${out}" "${sig}"; then
  log "${image} is up to date (${out})"
  exit 0
fi

t0=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/veloz-image.XXXXXX")"
trap 'rm -rf -- "${work}"' EXIT
rootfs="${work}/rootfs"
mkdir -p "${rootfs}"/{app,tmp,usr/local/bin,usr/bin,etc}
chmod 1777 "${rootfs}/tmp"

install -m 0755 "${node_bin}" "${rootfs}/usr/local/bin/node"
install -m 0755 "${tini}" "${rootfs}/usr/bin/tini"
# Names for the ids the image runs as (os.userInfo, and tools that print the user).
printf 'root:x:0:0:root:/root:/sbin/nologin\nveloz:x:%s:%s:veloz:/app:/sbin/nologin\n' "${run_as}" "${run_as}" >"${rootfs}/etc/passwd"
printf 'root:x:0:\nveloz:x:%s:\n' "${run_as}" >"${rootfs}/etc/group"

# Production dependencies of the runtime workspaces, as the Dockerfile's deps stage installs them.
log "installing production dependencies (npm ci --omit=dev)"
deps="${work}/deps"
mkdir -p "${deps}"
cp package.json package-lock.json .npmrc "${deps}/"
for ws in $(sed -n '/"workspaces"/,/]/p' package.json | grep -o '"[a-z0-9/-]*"' | tr -d '"' | grep -v workspaces); do
  mkdir -p "${deps}/${ws}" && cp "${ws}/package.json" "${deps}/${ws}/"
done
# Read before the cd below: only the shipped workspaces' production dependencies are installed
# (with no --workspace, npm would install those of the private testing and bench ones too).
mapfile -t ws_args < <(sed -n 's#^\(.*\)/package.json$#--workspace=\1#p' hack/image-contents.txt)
(cd "${deps}" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  "${ws_args[@]}" >"${work}/npm.log" 2>&1) ||
  die "npm ci failed: $(tail -n 20 "${work}/npm.log")"
cp -a "${deps}/node_modules" "${rootfs}/app/node_modules"

# Exactly the shared libraries that Node and the native addons of the dependencies link (plus the
# dynamic loader), at their paths on this machine.
mapfile -t elfs < <(echo "${node_bin}"; find "${rootfs}/app/node_modules" -name '*.node' -type f)
# One ldd per binary: the libraries to copy, and any it cannot find (named with its binary).
libs="$(for e in "${elfs[@]}"; do
  ldd "${e}" | awk -v e="${e}" '/not found/ { print "MISSING " e ": " $1 } /=> \// { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }'
done | sort -u)"
missing="$(grep '^MISSING' <<<"${libs}" || true)"
[[ -z "${missing}" ]] || die "a binary links a library this machine does not have: ${missing//MISSING /}"
while read -r lib; do
  [[ -n "${lib}" && ! -e "${rootfs}${lib}" ]] || continue
  mkdir -p "${rootfs}$(dirname "${lib}")"
  cp -L "${lib}" "${rootfs}${lib}"
done <<<"${libs}"
[[ -e "${rootfs}/lib64/ld-linux-x86-64.so.2" ]] || die "the dynamic loader was not found by ldd ${node_bin}"

tar "${excludes[@]}" -cf - "${contents[@]}" | tar -C "${rootfs}/app" -xf -
# The image runs JavaScript: the sources stripped of their types once here, so that Node never
# loads its type stripper at run time (docs/adr/0026-the-image-ships-stripped-javascript.md).
"${node_bin}" scripts/strip-types.ts "${rootfs}/app" >&2 || die "stripping the TypeScript sources failed"
# No test code in the image: a test, snapshot, fake, testkit or the testing package is a build error.
leaked="$(cd "${rootfs}/app" && find . -path ./node_modules -prune -o \( -name '*.test.*' -o -name '__snapshots__' \
  -o -name 'fake*' -o -name '*testkit*' -o -path '*/testing/*' -o -path '*/bench/*' \) -print | head -n 5)"
[[ -z "${leaked}" ]] || die "test code in the image: ${leaked//$'\n'/, }"
[[ ! -e "${rootfs}/app/node_modules/@veloz/testing" ]] || die "test code in the image: node_modules/@veloz/testing"
chmod -R a+rX,go-w "${rootfs}/app"

config="$(printf '{"User":"%s:%s","Env":%s,"Entrypoint":%s,"Cmd":["--help"],"WorkingDir":"/app","Labels":{"org.opencontainers.image.title":"veloz","org.opencontainers.image.version":"%s","org.opencontainers.image.licenses":"Apache-2.0"}}' \
  "${run_as}" "${run_as}" \
  "$(json_array PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production)" \
  "$(json_array /usr/bin/tini -- node /app/engine/cli/bin/veloz.js)" "${version}")"
docker_archive "${out}" "${image}" "${rootfs}" "${config}"
echo "${sig}" >"${out}.sig"
log "built ${image} without Docker in $((SECONDS - t0))s: ${out} ($(du -h "${out}" | cut -f1))"
