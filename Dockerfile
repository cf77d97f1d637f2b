# Table Voice container images (docs/operations.md#containers).
#   docker build --target web -t table-voice .              the web server (pnpm start)
#   docker build --target worker -t table-voice-worker .    a gateway worker (GATEWAY_MODE=worker layout)
# No Docker daemon was available where this was written: scripts/check-dockerfile.mjs runs these
# same steps outside Docker in a temporary directory and starts the result (see the docs). For it,
# keep to FROM, WORKDIR, ENV, COPY, RUN, USER, VOLUME, EXPOSE, HEALTHCHECK and CMD (exec form),
# with relative paths in the build stage's RUN steps.

# ---- build: install, build the web app, and deploy the gateway package with its production dependencies
FROM node:22.23.3-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npx -y pnpm@10.34.9 install --frozen-lockfile
RUN npx -y pnpm@10.34.9 --filter web build
RUN npx -y pnpm@10.34.9 --filter @repo/discord-gateway deploy --legacy --prod out/worker

# ---- web: the production server (apps/web/.output is self-contained) and its start script
FROM node:22.23.3-bookworm-slim AS web
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/scripts/start.mjs scripts/
COPY --from=build /app/scripts/lib scripts/lib
COPY --from=build /app/apps/web/.output apps/web/.output
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/api/health/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "scripts/start.mjs"]

# ---- worker: discord-gateway-worker, a gateway candidate on its own (state in Redis, no volume)
FROM node:22.23.3-bookworm-slim AS worker
ENV NODE_ENV=production WORKER_HEALTH_HOST=0.0.0.0 WORKER_HEALTH_PORT=3001
WORKDIR /app
COPY --from=build /app/out/worker ./
USER node
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.WORKER_HEALTH_PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/discord-gateway-worker.mjs"]
