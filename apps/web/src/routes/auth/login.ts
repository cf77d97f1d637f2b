import { createFileRoute } from '@tanstack/react-router'
import { startRuntime } from '../../server/runtime.server'

export const Route = createFileRoute('/auth/login')({
  server: {
    handlers: {
      GET: async ({ request }) => {
        const runtime = await startRuntime()
        const returnTo = new URL(request.url).searchParams.get('returnTo')
        const { location, setCookie } = await runtime.auth.beginLogin(returnTo)
        return new Response(null, {
          status: 302,
          headers: { location, 'set-cookie': setCookie, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
