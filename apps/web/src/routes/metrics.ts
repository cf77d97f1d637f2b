import { createFileRoute } from '@tanstack/react-router'
import { getRequestIP } from '@tanstack/react-start/server'
import { getConfig } from '../server/config.server'
import { opsAccessDenied } from '../server/ops-access'
import { startRuntime } from '../server/runtime.server'

/**
 * GET /metrics: the presence metrics in the Prometheus text format. Not public: it needs
 * METRICS_TOKEN, or a direct request on this machine (src/server/ops-access.ts).
 */
export const Route = createFileRoute('/metrics')({
  server: {
    handlers: {
      GET: async ({ request }) => {
        const denied = opsAccessDenied(request, getRequestIP(), getConfig().METRICS_TOKEN)
        if (denied) return denied
        const { presence } = await startRuntime()
        return new Response(await presence.metricsText(), {
          headers: { 'content-type': presence.metrics.contentType, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
