/**
 * Calls a server route's handler the way TanStack Start does after the route's middleware ran:
 * with the Request and the `context` that middleware would have handed in (a test builds it from
 * a runtime with `requestServices` / `runtimeStatus`, as src/server/middleware/runtime.ts does).
 */
type Handler = (ctx: { request: Request; context: unknown }) => Response | Promise<Response>

export function routeHandler(route: { options: unknown }, method: string): Handler {
  const handlers = (route.options as { server?: { handlers?: Record<string, Handler> } }).server
    ?.handlers
  const handler = handlers?.[method]
  if (!handler) throw new Error(`the route has no ${method} handler`)
  return handler
}

/** The route's request middleware, to check what it is wired to. */
export function routeMiddleware(route: { options: unknown }): unknown[] {
  return (route.options as { server?: { middleware?: unknown[] } }).server?.middleware ?? []
}
