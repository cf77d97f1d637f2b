import { createFileRoute } from '@tanstack/react-router'
import { withRuntime } from '../../server/middleware/runtime'

/**
 * `POST /auth/logout-everywhere`: the home page's "End all sessions" (sign out everywhere). Ends every session of the signed-in user,
 * in every browser and on every node (their open sockets close with 4001), revokes their Discord
 * authorizations, clears this browser's cookie and shows the signed-out page.
 */
export const Route = createFileRoute('/auth/logout-everywhere')({
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
        const clear = await auth.logoutEverywhere(request.headers.get('cookie'))
        return new Response(null, {
          status: 303,
          headers: {
            location: '/signed-out?reason=everywhere',
            'set-cookie': clear,
            'cache-control': 'no-store',
          },
        })
      },
    },
  },
})
