import { APP_ERRORS } from '@repo/discord-integration/contracts'
import { createMiddleware } from '@tanstack/react-start'
import { errorResponse } from '../../lib/server-fn-errors'

/** Whether a server-function request got as far as one of our functions. */
interface ServerFnCall {
  reached: boolean
}

/** Called by the function middleware (server-fn.ts) when a call reaches a function. */
export function markServerFnReached(context: unknown): void {
  const call = (context as { serverFnCall?: ServerFnCall } | undefined)?.serverFnCall
  if (call) call.reached = true
}

/**
 * Global request middleware (src/start.ts) for server-function requests that fail before they
 * reach a function: a body that is not JSON, a payload Start's deserializer rejects, an unknown
 * function, the wrong method. TanStack Start answers those with its own error text (a 500 carrying
 * the JSON parser's message, "Server function info not found for …"); the caller gets the fixed
 * INVALID_INPUT answer instead. Failures inside a function are the function middleware's to answer.
 */
export const malformedServerFnCalls = createMiddleware().server(async ({ handlerType, next }) => {
  if (handlerType !== 'serverFn') return next()
  const call: ServerFnCall = { reached: false }
  try {
    const result = await next({ context: { serverFnCall: call } })
    if (call.reached || result.response.status < 400) return result
  } catch (error) {
    // Start answers most of these with an error response, but throws for an unknown function.
    if (call.reached) throw error
  }
  // Thrown, so that Start marks the answer as a failed call for the client.
  throw errorResponse({ code: 'INVALID_INPUT', message: APP_ERRORS.INVALID_INPUT.message })
})
