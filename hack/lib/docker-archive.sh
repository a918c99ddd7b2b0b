# shellcheck shell=bash
# Writes a single-layer image in the docker-archive format (what `docker save` produces and
# `ctr images import` / `docker load` read) from a root filesystem directory, without Docker.
#
#   docker_archive OUT.tar REF ROOTFS_DIR CONFIG_JSON
#   fresh OUT.tar SIGNATURE     whether OUT.tar was built from SIGNATURE (its OUT.tar.sig)
#
# CONFIG_JSON is the image's "config" object (Entrypoint, Cmd, User, Env, WorkingDir, Labels).
# The layer is reproducible: sorted names, mtime 0, every file owned by root (the images run as
# a non-root user that can read, not change, what they ship).
# Where the built image tars live; hack/node.sh imports every one into the node's containerd.
IMAGES_CACHE="${VELOZ_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/veloz/images}"

fresh() { # fresh TAR SIGNATURE: the tar exists and was built from SIGNATURE
  [[ -s "$1" && -f "$1.sig" && "$(cat "$1.sig")" == "$2" ]]
}

docker_archive() {
  local out="$1" ref="$2" rootfs="$3" config="$4"
  local work layer_sha config_sha
  work="$(mktemp -d "${TMPDIR:-/tmp}/veloz-archive.XXXXXX")"
  tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "${rootfs}" -cf "${work}/layer.tar" .
  layer_sha="$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)"
  mkdir -p "${work}/out/${layer_sha}"
  mv "${work}/layer.tar" "${work}/out/${layer_sha}/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"hack/lib/docker-archive.sh"}]}' \
    "${config}" "${layer_sha}" >"${work}/config.json"
  config_sha="$(sha256sum "${work}/config.json" | cut -d' ' -f1)"
  mv "${work}/config.json" "${work}/out/${config_sha}.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "${config_sha}" "${ref}" "${layer_sha}" >"${work}/out/manifest.json"
  mkdir -p "$(dirname "${out}")"
  tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "${work}/out" -cf "${out}.tmp" .
  mv "${out}.tmp" "${out}"
  rm -rf -- "${work}"
}

# JSON string array from the arguments: json_array a b -> ["a","b"] (no escaping needed for the
# paths, flags and KEY=VALUE pairs used here; a quote or backslash is refused).
json_array() {
  local s="" a
  for a in "$@"; do
    [[ "${a}" != *[\"\\]* ]] || { echo "json_array: unsupported character in '${a}'" >&2; return 1; }
    s+="${s:+,}\"${a}\""
  done
  printf '[%s]' "${s}"
}
