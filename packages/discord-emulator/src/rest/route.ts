import type { IncomingHttpHeaders } from 'node:http'
import type { AccessGrant } from '../oauth/oauth-store.ts'
import type { Runtime } from '../runtime.ts'
import type { BucketLimit } from './rate-limiter.ts'

/** Who is calling. */
export type RestAuth = { kind: 'bot' } | ({ kind: 'bearer' } & AccessGrant) | { kind: 'none' }

/** What a route accepts. `client` = OAuth client credentials (checked by the handler). */
export type AuthMode = 'bot' | 'bearer' | 'either' | 'none'

/** A handler's answer. */
export interface RestResult {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** The request as a handler sees it. */
export interface RestContext {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  headers: IncomingHttpHeaders
  rawBody: Buffer
  auth: RestAuth
  rt: Runtime
  /** The JSON body (throws 50109 on invalid JSON; undefined when empty). */
  json(): unknown
}

/** One REST route. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** `/guilds/:guildId/channels` */
  pattern: string
  auth: AuthMode
  handler: (ctx: RestContext) => RestResult | Promise<RestResult>
  /** Overrides the default bucket. */
  limit?: BucketLimit
}

/** Defines a route (helps inference). */
export function route(
  method: RouteDef['method'],
  pattern: string,
  auth: AuthMode,
  handler: RouteDef['handler'],
  limit?: BucketLimit,
): RouteDef {
  return { method, pattern, auth, handler, ...(limit ? { limit } : {}) }
}

/** Compiles a pattern to a matcher returning its params. */
export function compilePattern(pattern: string): (path: string) => Record<string, string> | null {
  const names: string[] = []
  const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, name) => {
    names.push(name)
    return '([^/]+)'
  })
  const re = new RegExp(`^${source}/?$`)
  return (path) => {
    const m = re.exec(path)
    if (!m) return null
    const params: Record<string, string> = {}
    try {
      names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1] ?? '')
      })
    } catch {
      return null // malformed percent-encoding: no such route
    }
    return params
  }
}
