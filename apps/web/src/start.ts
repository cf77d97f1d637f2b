import { createCsrfMiddleware, createStart } from '@tanstack/react-start'
import { malformedServerFnCalls } from './server/middleware/server-fn-calls'

/**
 * The app's TanStack Start instance: request middleware run before every request Start handles.
 * Server functions and routes declare the rest of what they need themselves (src/server/middleware).
 */
export const startInstance = createStart(() => ({
  requestMiddleware: [
    // Start's default for server functions (a same-origin request, by Sec-Fetch-Site or Origin),
    // which a list of our own would otherwise replace.
    createCsrfMiddleware({ filter: (ctx) => ctx.handlerType === 'serverFn' }),
    malformedServerFnCalls,
  ],
}))
