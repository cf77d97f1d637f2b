import { createFileRoute } from '@tanstack/react-router'
import { signOutResponse } from '../../features/auth/sign-out-response.server'
import { withRuntime } from '../../server/middleware/runtime'

/**
 * `POST /auth/logout-everywhere`: the home page's "End all sessions" (sign out everywhere). Ends
 * every session of the signed-in user, in every browser and on every node (their open sockets
 * close with 4001), revokes their Discord authorizations, clears this browser's cookie and shows
 * the signed-out page.
 */
export const Route = createFileRoute('/auth/logout-everywhere')({
  server: {
    middleware: [withRuntime],
    handlers: {
      POST: ({ request, context: { auth, config } }) =>
        signOutResponse(
          request,
          config.PUBLIC_URL,
          (cookie) => auth.logoutEverywhere(cookie),
          '/signed-out?reason=everywhere',
        ),
    },
  },
})
