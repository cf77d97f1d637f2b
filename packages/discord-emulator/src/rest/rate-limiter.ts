import { createHash } from 'node:crypto'

/** A route bucket's limit. */
export interface BucketLimit {
  limit: number
  windowMs: number
}

/** Rate-limit state of one request against its bucket. */
export interface BucketState {
  bucket: string
  limit: number
  remaining: number
  resetAt: number
  exceeded: boolean
}

/** Rate-limit settings. */
export interface RateLimitOptions {
  /** Default per-route bucket. @defaultValue `{ limit: 10, windowMs: 1000 }` */
  route: BucketLimit
  /** Requests per second per bot token. @defaultValue 50 */
  globalPerSecond: number
}

/**
 * Discord-style HTTP rate limits: fixed-window buckets per route and major parameter, a global
 * limit per token, and a count of invalid (401/403/429) responses over 10 minutes.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { count: number; resetAt: number }>()
  readonly #global = new Map<string, { count: number; resetAt: number }>()
  #invalid: number[] = []

  constructor(readonly options: RateLimitOptions) {}

  /** Opaque bucket hash for a route, like Discord's X-RateLimit-Bucket. */
  static bucketHash(routeKey: string): string {
    return createHash('sha1').update(routeKey).digest('hex').slice(0, 32)
  }

  /** Counts a request against its route bucket. */
  take(routeKey: string, major: string, identity: string, limit = this.options.route): BucketState {
    const bucket = RateLimiter.bucketHash(routeKey)
    const key = `${identity}:${bucket}:${major}`
    const now = Date.now()
    let entry = this.#buckets.get(key)
    if (!entry || now >= entry.resetAt) {
      entry = { count: 0, resetAt: now + limit.windowMs }
      this.#buckets.set(key, entry)
    }
    const exceeded = entry.count >= limit.limit
    if (!exceeded) entry.count++
    return {
      bucket,
      limit: limit.limit,
      remaining: Math.max(0, limit.limit - entry.count),
      resetAt: entry.resetAt,
      exceeded,
    }
  }

  /** The state of a bucket without counting a request against it. */
  peek(routeKey: string, major: string, identity: string, limit = this.options.route): BucketState {
    const bucket = RateLimiter.bucketHash(routeKey)
    const now = Date.now()
    const entry = this.#buckets.get(`${identity}:${bucket}:${major}`)
    const live = entry && now < entry.resetAt ? entry : { count: 0, resetAt: now + limit.windowMs }
    return {
      bucket,
      limit: limit.limit,
      remaining: Math.max(0, limit.limit - live.count),
      resetAt: live.resetAt,
      exceeded: live.count >= limit.limit,
    }
  }

  /** Counts a request against the global limit; returns ms to wait when over it. */
  takeGlobal(identity: string): number {
    const now = Date.now()
    let entry = this.#global.get(identity)
    if (!entry || now >= entry.resetAt) {
      entry = { count: 0, resetAt: now + 1000 }
      this.#global.set(identity, entry)
    }
    if (entry.count >= this.options.globalPerSecond) return entry.resetAt - now
    entry.count++
    return 0
  }

  /** Records an invalid response (401, 403, or a non-shared 429). */
  recordInvalid(): void {
    this.#invalid.push(Date.now())
  }

  /** Invalid responses in the last 10 minutes. */
  invalidCount(): number {
    const cutoff = Date.now() - 600_000
    this.#invalid = this.#invalid.filter((t) => t >= cutoff)
    return this.#invalid.length
  }

  reset(): void {
    this.#buckets.clear()
    this.#global.clear()
    this.#invalid = []
  }
}

/** A duration in seconds with millisecond precision: the one number headers and body both quote. */
function seconds(ms: number): number {
  return Math.max(0, Math.round(ms)) / 1000
}

/**
 * The X-RateLimit-* headers for a bucket state, all computed from one `now`: `Reset` is exactly
 * `now + Reset-After` (docs topics/rate-limits "Header Format").
 */
export function rateLimitHeaders(state: BucketState, now = Date.now()): Record<string, string> {
  const after = seconds(state.resetAt - now)
  return {
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(state.remaining),
    'x-ratelimit-reset': ((now + after * 1000) / 1000).toFixed(3),
    'x-ratelimit-reset-after': String(after),
    'x-ratelimit-bucket': state.bucket,
  }
}

/** Which limit a 429 reports (X-RateLimit-Scope). */
export type RateLimitScope = 'user' | 'global' | 'shared'

/**
 * Headers and body of one 429, agreeing with each other as in Discord's examples (docs
 * topics/rate-limits "Exceeding A Rate Limit"): the body's `retry_after` is `Reset-After`,
 * `Retry-After` is it rounded up to whole seconds, `Reset` is now plus it.
 * - `user`: the bucket's headers with `Remaining: 0`, resetting when the wait ends.
 * - `shared`: a per-resource limit; the bucket's own headers (not exhausted), a different message.
 * - `global`: no bucket headers, `X-RateLimit-Global: true`.
 */
export function tooManyRequests(
  retryAfterSeconds: number,
  scope: RateLimitScope,
  state: BucketState | null,
  now = Date.now(),
) {
  const retryAfter = seconds(retryAfterSeconds * 1000)
  let bucketHeaders: Record<string, string> = {}
  if (state && scope === 'user') {
    bucketHeaders = rateLimitHeaders(
      { ...state, remaining: 0, resetAt: now + retryAfter * 1000 },
      now,
    )
  } else if (state && scope === 'shared') {
    bucketHeaders = rateLimitHeaders(state, now)
  }
  const headers: Record<string, string> = {
    ...bucketHeaders,
    'retry-after': String(Math.ceil(retryAfter)),
    'x-ratelimit-scope': scope,
  }
  if (scope === 'global') headers['x-ratelimit-global'] = 'true'
  const body = {
    message:
      scope === 'shared' ? 'The resource is being rate limited.' : 'You are being rate limited.',
    retry_after: retryAfter,
    global: scope === 'global',
  }
  return { headers, body }
}
