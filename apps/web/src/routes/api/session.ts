import { createFileRoute } from '@tanstack/react-router'
import { readSession } from '../../features/auth/session.server'

/**
 * Whether the request carries a valid session: 200 `{signedIn: true}` or 401
 * `{signedIn: false}`. The live room page asks when its WebSocket keeps failing,
 * since a refused upgrade looks like any network drop to a browser.
 */
export const Route = createFileRoute('/api/session')({
  server: {
    handlers: {
      GET: async ({ request }) => {
        const user = await readSession(request.headers.get('cookie'))
        return Response.json(
          { signedIn: user !== null },
          { status: user ? 200 : 401, headers: { 'cache-control': 'no-store' } },
        )
      },
    },
  },
})
