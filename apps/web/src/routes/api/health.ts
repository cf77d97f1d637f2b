import { createFileRoute } from '@tanstack/react-router'
import { withRuntimeStatus } from '../../server/middleware/runtime'

const startedAt = Date.now()

/**
 * Liveness and readiness in one JSON document: 200 while the server can serve rooms
 * (status ok or degraded), 503 when the gateway stopped and an operator must act.
 */
export const Route = createFileRoute('/api/health')({
  server: {
    middleware: [withRuntimeStatus],
    handlers: {
      GET: ({ context }) => {
        const health = context.status.health()
        return Response.json(
          {
            status: health.status,
            version: process.env.npm_package_version ?? '0.1.0',
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
            gatewayMode: health.gatewayMode,
            gateway: health.gateway,
            rooms: health.rooms,
            ...(health.leader === undefined ? {} : { leader: health.leader }),
            missingPermissions: health.missingPermissions,
            presence: health.presence,
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
