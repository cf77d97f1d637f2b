import { createFileRoute } from '@tanstack/react-router'
import { withRuntime } from '../../server/middleware/runtime'

export const Route = createFileRoute('/auth/logout')({
  server: {
    middleware: [withRuntime],
    handlers: {
      POST: async ({ request, context: { auth, config } }) => {
        // A cross-site form post must not sign people out.
        const origin = request.headers.get('origin')
        if (
          origin &&
          origin !== new URL(config.PUBLIC_URL).origin &&
          origin !== new URL(request.url).origin
        ) {
          return new Response('Forbidden', { status: 403 })
        }
        const clear = await auth.logout(request.headers.get('cookie'))
        return new Response(null, {
          status: 303,
          headers: { location: '/signed-out', 'set-cookie': clear, 'cache-control': 'no-store' },
        })
      },
    },
  },
})
