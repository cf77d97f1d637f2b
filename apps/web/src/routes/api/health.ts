import { createFileRoute } from '@tanstack/react-router'
import { getRequestIP } from '@tanstack/react-start/server'
import { getConfig } from '../../server/config.server'
import { opsAccessDenied } from '../../server/ops-access'
import { runtimeHealth } from '../../server/runtime.server'

const startedAt = Date.now()

/**
 * The detailed health document for operators: 200 while the server can serve rooms (status ok or
 * degraded), 503 when the gateway stopped and an operator must act. Not public: it needs
 * METRICS_TOKEN, or a direct request on this machine (src/server/ops-access.ts). Load balancers
 * use /api/health/live and /api/health/ready.
 */
export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: ({ request }) => {
        const denied = opsAccessDenied(request, getRequestIP(), getConfig().METRICS_TOKEN)
        if (denied) return denied
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
