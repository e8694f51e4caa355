# syntax=docker/dockerfile:1.7
# The scheduler-jobs image: one image, one entrypoint, the job name is the argument
# (Cloud Run passes it through the job's container args: ["quota-reset"]).
#
# Build:  docker build --platform linux/amd64 \
#           --build-arg RELEASE_VERSION=1.4.0 --build-arg GIT_COMMIT=$(git rev-parse HEAD) -t jobs .
# Check without an engine: npm run image:check (builds this exact layout in a temp folder and runs a job).

ARG NODE_VERSION=24.11.1

# ---- build: bundle the entrypoint (tools/bundle.ts), then install production dependencies only ----------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (and the `node` devDependency would fetch a second Node).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY tools/bundle.ts ./tools/bundle.ts
RUN node tools/bundle.ts \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f "(" -name "*.map" -o -name "*.d.ts" -o -name "*.d.cts" -o -name "*.d.mts" ")" -delete \
 && npm cache clean --force

# ---- runtime: Node 24, non-root, only what a job needs -------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG RELEASE_VERSION=dev
ARG GIT_COMMIT=unknown
ENV NODE_ENV=production \
    RELEASE_VERSION=${RELEASE_VERSION} \
    GIT_COMMIT=${GIT_COMMIT}
LABEL org.opencontainers.image.title="scheduler-jobs" \
      org.opencontainers.image.version="${RELEASE_VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}"
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root migrations ./migrations
# Node's compile cache, filled now by the user the jobs run as (Node keys the cache folder by user id),
# then owned by root like the code: a start reads compiled code instead of compiling it.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN install -d -o node .node-compile-cache \
 && runuser -u node -- node --max-semi-space-size=2 --max-old-space-size=256 dist/src/main.js --help >/dev/null \
 && runuser -u node -- node --max-semi-space-size=2 --max-old-space-size=256 --input-type=module -e 'for (const f of (await import("node:fs")).readdirSync("dist/chunks")) await import(process.cwd() + "/dist/chunks/" + f)' \
 && chown -R root:root .node-compile-cache && chmod -R a+rX,go-w .node-compile-cache
# Code is owned by root and read-only for the process; nothing is written outside /tmp,
# so the container runs with a read-only root filesystem.
USER node
# Heap sized for a 512Mi job, not for the host: flat memory in the org count (why: tools/image-layout.ts,
# RUNTIME_NODE_FLAGS).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--max-old-space-size=256", "/app/dist/src/main.js"]
CMD ["--help"]
