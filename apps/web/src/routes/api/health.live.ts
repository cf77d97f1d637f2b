import { createFileRoute } from '@tanstack/react-router'

/** Liveness for load balancers and container health checks: the process answers. No details. */
export const Route = createFileRoute('/api/health/live')({
  server: {
    handlers: {
      GET: () => Response.json({ status: 'live' }, { headers: { 'cache-control': 'no-store' } }),
    },
  },
})
