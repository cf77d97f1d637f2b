import { createFileRoute } from '@tanstack/react-router'
import { withRuntimeStatus } from '../../server/middleware/runtime'

/**
 * Readiness for load balancers: 200 `{"status":"ready"}` when this node can serve (runtime
 * started, gateway ready or resuming, Redis answering), else 503 `{"status":"not_ready"}`. Public,
 * so it says nothing more; the reasons are in the detailed /api/health.
 */
export const Route = createFileRoute('/api/health/ready')({
  server: {
    middleware: [withRuntimeStatus],
    handlers: {
      GET: async ({ context }) => {
        const { ready } = await context.status.ready()
        return Response.json(
          { status: ready ? 'ready' : 'not_ready' },
          { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } },
        )
      },
    },
  },
})
