# syntax=docker/dockerfile:1.7
# The scheduler-jobs image: one image, one entrypoint, the job name is the argument
# (Cloud Run passes it through the job's container args: ["quota-reset"]).
#
# Build:  docker build --platform linux/amd64 \
#           --build-arg RELEASE_VERSION=1.4.0 --build-arg GIT_COMMIT=$(git rev-parse HEAD) -t jobs .
# Check without an engine: npm run image:check (builds this exact layout in a temp folder and runs a job).

ARG NODE_VERSION=24.11.1

# ---- build: compile TypeScript, then install production dependencies only --------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (and the `node` devDependency would fetch a second Node).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
RUN npx tsc -p tsconfig.build.json \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
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
# Code is owned by root and read-only for the process; nothing is written outside /tmp,
# so the container runs with a read-only root filesystem.
USER node
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/src/main.js"]
CMD ["--help"]
