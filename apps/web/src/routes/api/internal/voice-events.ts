import { createFileRoute } from '@tanstack/react-router'
import { withRuntime } from '../../../server/middleware/runtime'

/**
 * Hub mode: a separate `discord-gateway-hub` process posts signed voice events here
 * (HMAC-SHA256 over timestamp, nonce and body; see packages/discord-gateway/README.md).
 * Answers 404 unless GATEWAY_MODE=hub, so the endpoint does not exist otherwise.
 */
export const Route = createFileRoute('/api/internal/voice-events')({
  server: {
    middleware: [withRuntime],
    handlers: {
      POST: async ({ request, context: { hub } }) => {
        if (!hub) return new Response('Not Found', { status: 404 })
        return hub.handle(request)
      },
    },
  },
})
