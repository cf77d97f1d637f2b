import { createFileRoute } from '@tanstack/react-router'
import { withRuntimeStatus } from '../../server/middleware/runtime'

const startedAt = Date.now()

/**
 * The detailed health document for operators: 200 while the server can serve rooms (status ok or
 * degraded), 503 when the gateway stopped or a setup check failed at start-up (`failingChecks`,
 * each with its fix, as `pnpm doctor` prints them) and an operator must act. With Redis (several
 * nodes), `gateway` is this node's view of the clustered voice feed: who leads the gateway, the
 * fencing token, this node's stream lag, the last handover and why it is degraded. `guilds` and
 * `shards`: each Discord server (state, rooms, free capacity) and gateway shard. Not public: it needs
 * METRICS_TOKEN, or a direct request on this machine (src/server/ops-access.ts). Load balancers
 * use /api/health/live and /api/health/ready.
 */
export const Route = createFileRoute('/api/health')({
  server: {
    middleware: [withRuntimeStatus],
    handlers: {
      GET: ({ request, context }) => {
        const denied = context.status.opsAccessDenied(request, context.clientAddress)
        if (denied) return denied
        const health = context.status.health()
        return Response.json(
          {
            status: health.status,
            version: process.env.npm_package_version ?? '0.1.0',
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
            layout: health.layout,
            gatewayMode: health.gatewayMode,
            gateway: health.gateway,
            rooms: health.rooms,
            ...(health.leader === undefined ? {} : { leader: health.leader }),
            missingPermissions: health.missingPermissions,
            failingChecks: health.failingChecks,
            presence: health.presence,
            guilds: health.guilds,
            shards: health.shards,
          },
          {
            status: health.status === 'down' ? 503 : 200,
            headers: { 'cache-control': 'no-store' },
          },
        )
      },
    },
  },
})
