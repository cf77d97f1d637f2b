import type { Hooks } from 'crossws'
import { defineWebSocketHandler } from 'nitro'
import { logRefusedUpgrade } from '../../../src/server/refused-upgrade-log'
import { getRuntime } from '../../../src/server/runtime.server'

/**
 * `/api/ws`: the presence WebSocket (protocol v1, specs/017-discord-gateway-real/contracts/
 * websocket-protocol.md), on the app's own port in dev and production. The hooks come from the
 * process-wide runtime on globalThis, so this route (bundled separately from the SSR code in
 * production) shares the same presence service as the server functions.
 */
export const hooks: Partial<Hooks> = {
  upgrade: async (request) => {
    const runtime = getRuntime()
    const result = await runtime.presence.hooks.upgrade?.(request)
    if (result instanceof Response) logRefusedUpgrade(runtime.wsLog, request, result)
    return result
  },
  open: (peer) => getRuntime().presence.hooks.open?.(peer),
  message: (peer, message) => getRuntime().presence.hooks.message?.(peer, message),
  pong: (peer, data) => getRuntime().presence.hooks.pong?.(peer, data),
  close: (peer, details) => getRuntime().presence.hooks.close?.(peer, details),
  error: (peer, error) => getRuntime().presence.hooks.error?.(peer, error),
}

export default defineWebSocketHandler(hooks)
