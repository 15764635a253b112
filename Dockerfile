# The Samokoder service. Multi-stage: build with dev dependencies, run with production ones only,
# as a non-root user. BASE_IMAGE defaults to the official Node 20 image; where no registry is
# reachable, pass an image built offline (docs/testing.md, "The sandbox image"), e.g.
#   docker build --build-arg BASE_IMAGE=samokoder-sandbox:latest -t samokoder .
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
USER root
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# Every module the service compiles from (tsconfig.build.json's include).
COPY core ./core
COPY protocol ./protocol
COPY db ./db
COPY events ./events
COPY runs ./runs
COPY agents ./agents
COPY llm ./llm
COPY keys ./keys
COPY usage ./usage
COPY webhooks ./webhooks
COPY server ./server
COPY sandbox ./sandbox
COPY workspaces ./workspaces
COPY scripts ./scripts
COPY cli ./cli
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM ${BASE_IMAGE}
USER root
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 SAMOKODER_DATA_DIR=/data
# Workspace history runs the git binary (simple-git); the slim Node image has none, the offline
# sandbox image already does.
RUN command -v git >/dev/null || (apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*)
RUN (getent group samokoder || groupadd --system --gid 10002 samokoder) \
 && (id -u samokoder || useradd --system --uid 10002 --gid samokoder --home-dir /app --shell /usr/sbin/nologin samokoder) \
 && mkdir -p /data && chown samokoder:samokoder /data
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/package.json ./
USER samokoder
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/server/main.js"]
