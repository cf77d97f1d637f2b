import { createFileRoute } from '@tanstack/react-router'
import { signOutResponse } from '../../features/auth/sign-out-response.server'
import { withRuntime } from '../../server/middleware/runtime'

/** `POST /auth/logout`: ends this browser's session only, and shows the signed-out page. */
export const Route = createFileRoute('/auth/logout')({
  server: {
    middleware: [withRuntime],
    handlers: {
      POST: ({ request, context: { auth, config } }) =>
        signOutResponse(request, config.PUBLIC_URL, (cookie) => auth.logout(cookie), '/signed-out'),
    },
  },
})
