import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Runtime } from '../runtime.ts'
import { Errors, RestError } from './errors.ts'
import { readBody, send } from './http.ts'
import { type BucketState, rateLimitHeaders, tooManyRequests } from './rate-limiter.ts'
import {
  compilePattern,
  type RestAuth,
  type RestContext,
  type RestResult,
  type RouteDef,
} from './route.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * REST v10 dispatcher: version prefix, route matching, scripted faults, auth, global and
 * per-route rate limits (headers on every response), Discord error bodies, request log.
 */
export class RestRouter {
  readonly #routes: (RouteDef & { match: ReturnType<typeof compilePattern> })[]

  constructor(
    private readonly rt: Runtime,
    routes: RouteDef[],
  ) {
    this.#routes = routes.map((r) => ({ ...r, match: compilePattern(r.pattern) }))
  }

  /** Handles a request whose path starts with `/api`. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = (req.method ?? 'GET').toUpperCase()
    const path = url.pathname.replace(/^\/api(\/v(9|10))?(?=\/)/, '')
    let status = 500
    let scope: string | undefined
    try {
      const result = await this.#handle(req, method, path, url.searchParams)
      status = result.status
      scope = result.headers?.['x-ratelimit-scope']
      send(res, result.status, result.body, result.headers)
    } catch (err) {
      const e =
        err instanceof RestError
          ? err
          : new RestError(500, { message: '500: Internal Server Error', code: 0 })
      if (!(err instanceof RestError))
        this.rt.log.error({ err, method, path }, 'REST handler crashed')
      status = e.status
      send(res, e.status, e.body)
    } finally {
      // 401, 403 and 429 count as invalid requests, except 429s of scope `shared`
      // (docs topics/rate-limits "Invalid Request Limit").
      if (status === 401 || status === 403 || (status === 429 && scope !== 'shared')) {
        this.rt.limiter.recordInvalid()
      }
      this.rt.requestLog.push({ at: Date.now(), method, path, status })
      if (this.rt.requestLog.length > 5000) this.rt.requestLog.shift()
    }
  }

  async #handle(
    req: IncomingMessage,
    method: string,
    path: string,
    query: URLSearchParams,
  ): Promise<RestResult> {
    let found: { def: RouteDef; params: Record<string, string> } | null = null
    let pathExists = false
    for (const r of this.#routes) {
      const params = r.match(path)
      if (!params) continue
      pathExists = true
      if (r.method === method) {
        found = { def: r, params }
        break
      }
    }
    const auth = this.#authenticate(req.headers.authorization)
    const identity = auth.kind === 'bot' ? 'bot' : auth.kind === 'bearer' ? auth.userId : 'ip'
    const fault = this.rt.faults.take(method, path, found?.def.pattern ?? null)
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs)
      if (fault.status === 429) {
        const scope = fault.scope ?? (fault.global ? 'global' : 'user')
        const state = found ? this.#peekBucket(found.def, found.params, identity) : null
        const { headers, body } = tooManyRequests(fault.retryAfter ?? 1, scope, state)
        return { status: 429, headers, body }
      }
      if (fault.status >= 400) {
        const message =
          fault.status >= 500 ? `${fault.status}: Emulated failure` : 'Emulated failure'
        return { status: fault.status, body: { message, code: 0 } }
      }
    }
    if (!found) throw pathExists ? Errors.methodNotAllowed() : Errors.notFound()
    const { def, params } = found
    if (def.auth !== 'none') {
      const ok =
        (auth.kind === 'bot' && (def.auth === 'bot' || def.auth === 'either')) ||
        (auth.kind === 'bearer' && (def.auth === 'bearer' || def.auth === 'either'))
      if (!ok) throw Errors.unauthorized()
    }
    const globalWait = this.rt.limiter.takeGlobal(identity)
    if (globalWait > 0) {
      const { headers, body } = tooManyRequests(globalWait / 1000, 'global', null)
      return { status: 429, headers, body }
    }
    const state = this.#takeBucket(def, params, identity)
    // Read the clock after the bucket did, so that Reset-After never exceeds the window.
    const now = Date.now()
    const rlHeaders = rateLimitHeaders(state, now)
    if (state.exceeded) {
      const { headers, body } = tooManyRequests((state.resetAt - now) / 1000, 'user', state, now)
      return { status: 429, headers, body }
    }
    const rawBody = await readBody(req)
    const ctx: RestContext = {
      method,
      path,
      params,
      query,
      headers: req.headers,
      rawBody,
      auth,
      rt: this.rt,
      json() {
        if (rawBody.length === 0) return undefined
        const type = String(req.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim()
          .toLowerCase()
        // JSON bodies need their content type (docs topics/opcodes-and-status-codes: 50035
        // "Invalid form body ... or invalid Content-Type provided").
        if (type !== 'application/json') throw Errors.invalidContentType()
        try {
          return JSON.parse(rawBody.toString('utf8'))
        } catch {
          throw Errors.invalidJson()
        }
      },
    }
    try {
      const result = await def.handler(ctx)
      return { ...result, headers: { ...rlHeaders, ...result.headers } }
    } catch (err) {
      if (err instanceof RestError) {
        return { status: err.status, body: err.body, headers: rlHeaders }
      }
      throw err
    }
  }

  #major(params: Record<string, string>): string {
    return params.guildId ?? params.channelId ?? ''
  }

  #takeBucket(def: RouteDef, params: Record<string, string>, identity: string): BucketState {
    return this.rt.limiter.take(
      `${def.method} ${def.pattern}`,
      this.#major(params),
      identity,
      def.limit,
    )
  }

  #peekBucket(def: RouteDef, params: Record<string, string>, identity: string): BucketState {
    return this.rt.limiter.peek(
      `${def.method} ${def.pattern}`,
      this.#major(params),
      identity,
      def.limit,
    )
  }

  #authenticate(header: string | undefined): RestAuth {
    if (!header) return { kind: 'none' }
    const [scheme, value] = header.split(' ', 2)
    if (scheme === 'Bot' && value === this.rt.world.botToken) return { kind: 'bot' }
    if (scheme === 'Bearer' && value) {
      const grant = this.rt.oauth.lookup(value)
      if (grant) return { kind: 'bearer', ...grant }
    }
    return { kind: 'none' }
  }
}
