import { createFileRoute } from '@tanstack/react-router'
import { withRuntimeStatus } from '../server/middleware/runtime'

/** GET /metrics: the presence metrics in the Prometheus text format. */
export const Route = createFileRoute('/metrics')({
  server: {
    middleware: [withRuntimeStatus],
    handlers: {
      GET: async ({ context: { status } }) =>
        new Response(await status.metrics.text(), {
          headers: { 'content-type': status.metrics.contentType, 'cache-control': 'no-store' },
        }),
    },
  },
})
