import { createFileRoute } from '@tanstack/react-router'
import { withRuntime } from '../../server/middleware/runtime'

export const Route = createFileRoute('/auth/login')({
  server: {
    middleware: [withRuntime],
    handlers: {
      GET: async ({ request, context }) => {
        const returnTo = new URL(request.url).searchParams.get('returnTo')
        const { location, setCookie } = await context.auth.beginLogin(returnTo)
        return new Response(null, {
          status: 302,
          headers: { location, 'set-cookie': setCookie, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
