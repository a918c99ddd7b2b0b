# syntax=docker/dockerfile:1
# The one VeloZ image: its entrypoint is the `veloz` CLI (engine, gateway, operator, backup,
# restore, wal). TypeScript runs directly on Node 24 (docs/adr/0001), so there is no build step:
# the image is the sources plus production dependencies. Build with hack/build-image.sh, which
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
COPY engine/package.json engine/
COPY operator/package.json operator/
COPY cdk8s/package.json cdk8s/
COPY test-e2e/package.json test-e2e/
# Production dependencies of the three runtime workspaces only: no Node devDependency (the base
# image is Node), no test, lint or type-check tools. No install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace engine --workspace operator --workspace cdk8s \
 && npm cache clean --force

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
COPY package.json ./
COPY engine/package.json engine/
COPY engine/bin engine/bin
COPY engine/src engine/src
COPY operator/package.json operator/
COPY operator/src operator/src
COPY cdk8s/package.json cdk8s/
COPY cdk8s/src cdk8s/src
ENV NODE_ENV=production
# A numeric user, so runAsNonRoot can be verified without /etc/passwd; the pods' securityContext
# uses the same id (cdk8s/src/names.ts RUN_AS, the chart's podSecurityContext).
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/engine/bin/veloz.js"]
CMD ["--help"]
