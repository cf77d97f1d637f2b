import { createFileRoute } from '@tanstack/react-router'
import { getRequestIP } from '@tanstack/react-start/server'
import {
  presenceMetricsContentType,
  presenceMetricsText,
} from '../features/presence/presence-service.server'
import { getConfig } from '../server/config.server'
import { opsAccessDenied } from '../server/ops-access'

/**
 * GET /metrics: the presence metrics in the Prometheus text format. Not public: it needs
 * METRICS_TOKEN, or a direct request on this machine (src/server/ops-access.ts).
 */
export const Route = createFileRoute('/metrics')({
  server: {
    handlers: {
      GET: async ({ request }) =>
        opsAccessDenied(request, getRequestIP(), getConfig().METRICS_TOKEN) ??
        new Response(await presenceMetricsText(), {
          headers: { 'content-type': presenceMetricsContentType(), 'cache-control': 'no-store' },
        }),
    },
  },
})
