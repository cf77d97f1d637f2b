import type { Redis } from 'ioredis'
import type { AttemptLimiter, AttemptLimits, AttemptVerdict } from './attempt-limiter'

/** INCR with the window set on the first attempt, in one step: returns {count, ms left}. */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`

/**
 * The AttemptLimiter shared by every node on Redis (`{prefix}{key}`, expiring with its window),
 * so a guesser spreading attempts over nodes behind a load balancer gets no more of them.
 */
export class RedisAttemptLimiter implements AttemptLimiter {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #limits: AttemptLimits

  constructor(options: { redis: Redis; prefix: string; limits: AttemptLimits }) {
    this.#redis = options.redis
    this.#prefix = options.prefix
    this.#limits = options.limits
  }

  async hit(key: string): Promise<AttemptVerdict> {
    const [count, ttl] = (await this.#redis.eval(
      HIT_SCRIPT,
      1,
      `${this.#prefix}${key}`,
      this.#limits.windowMs,
    )) as [number, number]
    if (count <= this.#limits.limit) return { ok: true }
    return { ok: false, retryAfter: Math.max(1, Math.ceil(ttl / 1000)) }
  }
}
