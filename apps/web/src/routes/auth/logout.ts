import { createFileRoute } from '@tanstack/react-router'
import { startRuntime } from '../../server/runtime.server'

export const Route = createFileRoute('/auth/logout')({
  server: {
    handlers: {
      POST: async ({ request }) => {
        const runtime = await startRuntime()
        // A cross-site form post must not sign people out.
        const origin = request.headers.get('origin')
        if (
          origin &&
          origin !== new URL(runtime.config.PUBLIC_URL).origin &&
          origin !== new URL(request.url).origin
        ) {
          return new Response('Forbidden', { status: 403 })
        }
        const clear = await runtime.auth.logout(request.headers.get('cookie'))
        return new Response(null, {
          status: 303,
          headers: { location: '/signed-out', 'set-cookie': clear, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
