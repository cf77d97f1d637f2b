import { createFileRoute } from '@tanstack/react-router'

const startedAt = Date.now()

export const Route = createFileRoute('/api/health')({
  server: {
    handlers: {
      GET: () =>
        Response.json(
          {
            status: 'ok',
            version: process.env.npm_package_version ?? '0.1.0',
            uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          },
          { headers: { 'cache-control': 'no-store' } },
        ),
    },
  },
})
