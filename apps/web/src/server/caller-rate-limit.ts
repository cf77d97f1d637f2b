import { AppError } from './app-error'
import { TokenBucket } from './token-bucket'

/** Options of {@link CallerRateLimit}. */
export interface CallerRateLimitOptions {
  /** Sustained calls per second per caller. @defaultValue 2 */
  perSecond?: number
  /** Calls a caller may make in a burst. @defaultValue 20 */
  burst?: number
  /** Callers tracked at once; the least recently seen is forgotten first. @defaultValue 10000 */
  maxCallers?: number
  now?: () => number
}

/**
 * A token bucket per signed-in caller for the server functions, so one browser
 * (or script) cannot flood Discord's REST API through us. Memory stays bounded:
 * the least recently seen caller is dropped when the table is full.
 */
export class CallerRateLimit {
  readonly #buckets = new Map<string, TokenBucket>()
  readonly #perSecond: number
  readonly #burst: number
  readonly #maxCallers: number
  readonly #now: () => number

  constructor(options: CallerRateLimitOptions = {}) {
    this.#perSecond = options.perSecond ?? 2
    this.#burst = options.burst ?? 20
    this.#maxCallers = options.maxCallers ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Takes one call for `callerId`; throws RATE_LIMITED when its bucket is empty. */
  take(callerId: string): void {
    let bucket = this.#buckets.get(callerId)
    if (bucket) {
      this.#buckets.delete(callerId)
    } else {
      if (this.#buckets.size >= this.#maxCallers) {
        const oldest = this.#buckets.keys().next().value
        if (oldest !== undefined) this.#buckets.delete(oldest)
      }
      bucket = new TokenBucket(this.#perSecond, this.#burst, this.#now)
    }
    this.#buckets.set(callerId, bucket)
    if (!bucket.take()) {
      throw new AppError('RATE_LIMITED', { retryAfter: Math.ceil(1 / this.#perSecond) })
    }
  }

  /** How many callers are tracked (for tests and health). */
  get size(): number {
    return this.#buckets.size
  }
}
