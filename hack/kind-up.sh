#!/usr/bin/env bash
# kind cluster for the e2e suite, for users' CI on machines with Docker (this project's own
# machines have no container engine; there, npm test uses hack/cluster.sh instead).
#
#   hack/kind-up.sh          create the cluster (test-e2e/kind-config.yaml), build and load the
#                            veloz image, print the kubeconfig path
#   hack/kind-up.sh down     delete the cluster
#
# Then: KUBECONFIG=$(hack/kind-up.sh kubeconfig) npm run test:e2e
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${VELOZ_KIND_CLUSTER:-veloz-e2e}"
KUBECONFIG_PATH="${ROOT}/.veloz-tmp/kind-${NAME}.kubeconfig"

die() { printf 'kind-up: %s\n' "$*" >&2; exit 1; }
command -v kind >/dev/null || die "kind is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable (docker info failed); kind needs one"

case "${1:-up}" in
  up)
    if ! kind get clusters | grep -qx "${NAME}"; then
      kind create cluster --name "${NAME}" --config "${ROOT}/test-e2e/kind-config.yaml" --wait 120s
    fi
    mkdir -p "$(dirname "${KUBECONFIG_PATH}")"
    kind get kubeconfig --name "${NAME}" >"${KUBECONFIG_PATH}"
    "${ROOT}/hack/build-image.sh"
    version="$(node -p "require('${ROOT}/package.json').version")"
    kind load docker-image "veloz:${version}" --name "${NAME}"
    echo "${KUBECONFIG_PATH}"
    ;;
  kubeconfig)
    echo "${KUBECONFIG_PATH}"
    ;;
  down)
    kind delete cluster --name "${NAME}"
    rm -f "${KUBECONFIG_PATH}"
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
