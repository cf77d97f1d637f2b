import { createMiddleware } from '@tanstack/react-start'
import { getRequestHeader, getRequestIP } from '@tanstack/react-start/server'
import { clientAddress } from '../client-address'
import { withRuntime } from './runtime'

/**
 * Function middleware that hands a server function the caller's address (`context.clientAddress`,
 * null when unknown) for per-address limits: the socket's peer, or with TRUSTED_PROXY_HOPS the
 * address the outermost trusted proxy put in X-Forwarded-For (src/server/client-address.ts).
 */
export const withClientAddress = createMiddleware({ type: 'function' })
  .middleware([withRuntime])
  .server(({ context, next }) =>
    next({
      context: {
        clientAddress: clientAddress(
          getRequestIP(),
          getRequestHeader('x-forwarded-for') ?? null,
          context.config.TRUSTED_PROXY_HOPS,
        ),
      },
    }),
  )
