import { createFileRoute } from '@tanstack/react-router'
import { runtimeHealth } from '../../server/runtime.server'

const startedAt = Date.now()

export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: () => {
        const runtime = runtimeHealth()
        return Response.json(
          {
            status: 'ok',
            version: process.env.npm_package_version ?? '0.1.0',
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
            gateway: runtime?.gateway ?? 'not_started',
            rooms: runtime?.rooms ?? 0,
          },
          { headers: { 'cache-control': 'no-store' } },
        )
      },
    },
  },
})
