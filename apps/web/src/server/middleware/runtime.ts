import { createMiddleware } from '@tanstack/react-start'
import { getRequestIP } from '@tanstack/react-start/server'
import { getRuntime, requestServices, startedRuntime, startRuntime } from '../runtime.server'
import { runtimeStatus } from '../runtime-status'

/**
 * Request middleware that hands a server function or server route the runtime's parts it may
 * use (`config`, `logger`, `auth`, `rooms`, `callerLimit`: RequestServices) in its
 * `context`, once the runtime has started. This and the Nitro pieces in server/ are the only
 * places that reach the process-wide runtime; features get what they need from here.
 */
export const withRuntime = createMiddleware().server(async ({ next }) =>
  next({ context: requestServices(await startRuntime()) }),
)

/**
 * Request middleware for /api/health, /api/health/ready and /metrics: `context.status` reports how
 * the runtime is doing at once, without waiting for it to finish starting (a gateway that cannot
 * reach Discord must not make the health check hang); `context.clientAddress` is the peer's
 * address, which decides who may read the operator endpoints.
 */
export const withRuntimeStatus = createMiddleware().server(({ next }) =>
  next({
    context: {
      status: runtimeStatus(getRuntime(), startedRuntime() !== null),
      clientAddress: getRequestIP(),
    },
  }),
)
