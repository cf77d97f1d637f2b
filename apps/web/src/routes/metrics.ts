import { createFileRoute } from '@tanstack/react-router'
import {
  presenceMetricsContentType,
  presenceMetricsText,
} from '../features/presence/presence-service.server'

/** GET /metrics: the presence metrics in the Prometheus text format. */
export const Route = createFileRoute('/metrics')({
  server: {
    handlers: {
      GET: async () =>
        new Response(await presenceMetricsText(), {
          headers: { 'content-type': presenceMetricsContentType(), 'cache-control': 'no-store' },
        }),
    },
  },
})
