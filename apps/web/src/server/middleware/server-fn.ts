import type { AppErrorBody } from '@repo/discord-integration/contracts'
import { isNotFound, isRedirect } from '@tanstack/react-router'
import { createMiddleware } from '@tanstack/react-start'
import { appendResponseHeader, getRequestHeader } from '@tanstack/react-start/server'
import { actAsCaller, readSessionUser } from '../../features/auth/session.server'
import { errorFromResponse, errorResponse, isPublicError } from '../../lib/server-fn-errors'
import { toAppError } from '../app-error'
import { getLogger } from '../logger.server'
import { withRuntime } from './runtime'
import { markServerFnReached } from './server-fn-calls'

/**
 * Function middleware that gives every failed server function its documented answer
 * (specs/017-discord-gateway-real/contracts/server-functions.md). TanStack Start would answer a
 * thrown error with HTTP 200 and only its message; instead the server side answers with the code's
 * HTTP status and `{code, message, retryAfter?}` (a Response thrown, which Start passes to the
 * client as a failed call), and the client side turns that answer back into the PublicError the
 * pages read with `errorCodeOf`. During server rendering both sides run on the server.
 */
export const typedErrors = createMiddleware({ type: 'function' })
  .client(async ({ next }) => {
    try {
      return await next()
    } catch (error) {
      if (error instanceof Response && !isRedirect(error)) throw await errorFromResponse(error)
      throw error
    }
  })
  .server(async ({ context, next }) => {
    markServerFnReached(context)
    try {
      return await next()
    } catch (error) {
      if (isRedirect(error) || isNotFound(error)) throw error
      throw errorResponse(errorBody(error))
    }
  })

/** The browser-safe body for anything a server function threw; internals are logged, never sent. */
function errorBody(error: unknown): AppErrorBody {
  if (isPublicError(error)) {
    const { code, message, retryAfter } = error
    return retryAfter === undefined ? { code, message } : { code, message, retryAfter }
  }
  const appError = toAppError(error)
  if (appError.status >= 500) {
    getLogger().error(
      { err: appError.cause ?? appError, code: appError.code },
      'server function failed',
    )
  }
  return appError.toBody()
}

const cookieHeader = () => getRequestHeader('cookie') ?? null
const setCookie = (value: string) => appendResponseHeader('set-cookie', value)

/**
 * For server functions that need a signed-in caller: `context.actor` (from the server-side session
 * the cookie names, with a fresh Discord token) plus the runtime's parts (withRuntime), after
 * taking one call from the caller's rate limit. No session cookie: UNAUTHENTICATED; a session that
 * ended (signed out, here or everywhere; expired): SESSION_EXPIRED; Discord refused the caller's
 * authorization (renewing the token, or in the function itself): DISCORD_AUTH_REVOKED, and the
 * session is ended. These three clear the session cookie. Over the limit: RATE_LIMITED with
 * `retryAfter`.
 */
export const signedIn = createMiddleware({ type: 'function' })
  .middleware([typedErrors, withRuntime])
  .server(async ({ context, next }) =>
    actAsCaller(context.auth, cookieHeader(), setCookie, async (actor) => {
      context.callerLimit.take(actor.userId)
      return next({ context: { actor } })
    }),
  )

/**
 * For server functions that also work signed out: `context.user` is the signed-in user or null
 * (the session cookie is renewed when the session's use is recorded).
 */
export const maybeSignedIn = createMiddleware({ type: 'function' })
  .middleware([typedErrors, withRuntime])
  .server(async ({ context, next }) =>
    next({ context: { user: await readSessionUser(context.auth, cookieHeader(), setCookie) } }),
  )
