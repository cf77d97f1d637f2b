import { createFileRoute } from '@tanstack/react-router'
import { runtimeHealth } from '../../server/runtime.server'

const startedAt = Date.now()

/**
 * Liveness and readiness in one JSON document: 200 while the server can serve rooms
 * (status ok or degraded), 503 when the gateway stopped and an operator must act.
 */
export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: () => {
        const runtime = runtimeHealth()
        const status = runtime?.status ?? 'degraded'
        return Response.json(
          {
            status,
            version: process.env.npm_package_version ?? '0.1.0',
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
            gatewayMode: runtime?.gatewayMode ?? null,
            gateway: runtime?.gateway ?? { state: 'not_started' },
            rooms: runtime?.rooms ?? 0,
            ...(runtime?.leader === undefined ? {} : { leader: runtime.leader }),
            missingPermissions: runtime?.missingPermissions ?? [],
            presence: runtime?.presence ?? null,
          },
          { status: status === 'down' ? 503 : 200, headers: { 'cache-control': 'no-store' } },
        )
      },
    },
  },
})
