# syntax=docker/dockerfile:1
# The one VeloZ image: its entrypoint is the `veloz` CLI (engine, gateway, operator, backup,
# restore, wal). TypeScript runs directly on Node 24 in development (docs/adr/0001); the image
# ships the same sources with their types stripped (docs/adr/0026), plus production dependencies. Build with hack/build-image.sh, which
# passes NODE_VERSION from package.json (the `node` devDependency every npm script runs on).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
# tini as PID 1: the kernel gives PID 1 no default signal actions, so a command without its own
# SIGTERM handler (veloz wal verify, veloz backup) would ignore `kubectl delete pod` until SIGKILL;
# tini forwards signals to node and reaps orphans. The static build needs nothing from this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json .npmrc ./
COPY cdk8s/api/package.json cdk8s/api/
COPY cdk8s/render/package.json cdk8s/render/
COPY engine/common/package.json engine/common/
COPY engine/wal/package.json engine/wal/
COPY engine/backup/package.json engine/backup/
COPY engine/core/package.json engine/core/
COPY engine/gateway/package.json engine/gateway/
COPY operator/package.json operator/
COPY engine/cli/package.json engine/cli/
COPY engine/testing/package.json engine/testing/
COPY engine/bench/package.json engine/bench/
COPY test-e2e/package.json test-e2e/
# Production dependencies of the runtime workspaces only: no Node devDependency (the base image is
# Node), no test, lint or type-check tools, not @veloz/testing. No install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace cdk8s/api \
      --workspace cdk8s/render \
      --workspace engine/common \
      --workspace engine/wal \
      --workspace engine/backup \
      --workspace engine/core \
      --workspace engine/gateway \
      --workspace operator \
      --workspace engine/cli \
 && npm cache clean --force

# The sources stripped to JavaScript once, here: the image runs .js files, so Node never loads its
# type stripper at run time (docs/adr/0026-the-image-ships-stripped-javascript.md). The script uses
# Node built-ins only.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json ./
COPY cdk8s/api/package.json cdk8s/api/
COPY cdk8s/api/src cdk8s/api/src
COPY cdk8s/render/package.json cdk8s/render/
COPY cdk8s/render/src cdk8s/render/src
COPY engine/common/package.json engine/common/
COPY engine/common/src engine/common/src
COPY engine/wal/package.json engine/wal/
COPY engine/wal/src engine/wal/src
COPY engine/backup/package.json engine/backup/
COPY engine/backup/src engine/backup/src
COPY engine/core/package.json engine/core/
COPY engine/core/src engine/core/src
COPY engine/gateway/package.json engine/gateway/
COPY engine/gateway/src engine/gateway/src
COPY operator/package.json operator/
COPY operator/src operator/src
COPY engine/cli/package.json engine/cli/
COPY engine/cli/src engine/cli/src
COPY engine/cli/bin engine/cli/bin
COPY scripts/strip-types.ts /build/strip-types.ts
RUN node /build/strip-types.ts /app

FROM node:${NODE_VERSION}-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="veloz" \
      org.opencontainers.image.description="VeloZ trading engine, gateway and Kubernetes operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# npm, npx and corepack are build tools; nothing runs them in the container.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=deps /usr/bin/tini-static /usr/bin/tini
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app ./
ENV NODE_ENV=production
# A numeric user, so runAsNonRoot can be verified without /etc/passwd; the pods' securityContext
# uses the same id (cdk8s/api/src/names.ts RUN_AS, the chart's podSecurityContext).
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/engine/cli/bin/veloz.js"]
CMD ["--help"]
