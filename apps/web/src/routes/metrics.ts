import { createFileRoute } from '@tanstack/react-router'
import { withRuntimeStatus } from '../server/middleware/runtime'

/**
 * GET /metrics: the presence metrics in the Prometheus text format. Not public: it needs
 * METRICS_TOKEN, or a direct request on this machine (src/server/ops-access.ts).
 */
export const Route = createFileRoute('/metrics')({
  server: {
    middleware: [withRuntimeStatus],
    handlers: {
      GET: async ({ request, context: { status, clientAddress } }) =>
        status.opsAccessDenied(request, clientAddress) ??
        new Response(await status.metrics.text(), {
          headers: { 'content-type': status.metrics.contentType, 'cache-control': 'no-store' },
        }),
    },
  },
})
