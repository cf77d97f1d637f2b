import { createFileRoute } from '@tanstack/react-router'
import { startRuntime } from '../server/runtime.server'

/** GET /metrics: the presence metrics in the Prometheus text format. */
export const Route = createFileRoute('/metrics')({
  server: {
    handlers: {
      GET: async () => {
        const { presence } = await startRuntime()
        return new Response(await presence.metricsText(), {
          headers: { 'content-type': presence.metrics.contentType, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
