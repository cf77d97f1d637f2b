# Table Voice container images (docs/operations.md#containers).
#   docker build --target web -t table-voice .   the web server (pnpm start)
#   docker build --target hub -t table-voice-hub .   the separate gateway process (hub mode)
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
RUN npx -y pnpm@10.34.9 --filter @repo/discord-gateway deploy --legacy --prod out/hub

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

# ---- hub: the discord-gateway-hub process (one per deployment, GATEWAY_MODE=hub)
FROM node:22.23.3-bookworm-slim AS hub
ENV NODE_ENV=production GATEWAY_SESSION_FILE=/data/gateway-session.json
WORKDIR /app
COPY --from=build /app/out/hub ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
CMD ["node", "bin/discord-gateway-hub.mjs"]
