import { createFileRoute } from '@tanstack/react-router'
import { readSessionUser } from '../../features/auth/session.server'
import { withRuntime } from '../../server/middleware/runtime'

/**
 * Whether the request carries a valid session: 200 `{signedIn: true}` or 401
 * `{signedIn: false}`. The live room page asks when its WebSocket keeps failing,
 * since a refused upgrade looks like any network drop to a browser.
 */
export const Route = createFileRoute('/api/session')({
  server: {
    middleware: [withRuntime],
    handlers: {
      GET: async ({ request, context }) => {
        const user = await readSessionUser(context.auth, request.headers.get('cookie'))
        return Response.json(
          { signedIn: user !== null },
          { status: user ? 200 : 401, headers: { 'cache-control': 'no-store' } },
        )
      },
    },
  },
})
