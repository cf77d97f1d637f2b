import { identifyBucket } from '../world/sharding.ts'

/** How long a session start quota lasts (Discord: 24 hours). */
const QUOTA_WINDOW_MS = 86_400_000

/** Why an IDENTIFY may not start a session now, or null when it may. */
export type IdentifyLimitRefusal = 'concurrency' | 'quota' | null

/**
 * The gateway's identify limits (docs events/gateway "Identifying", "Max Concurrency",
 * "Session Start Limit Object"): one IDENTIFY per `intervalMs` (Discord: 5 s) in each bucket
 * `shard_id % max_concurrency`, and `total` session starts per 24 h across all shards.
 */
export class IdentifyLimits {
  remaining: number
  resetAt = Date.now() + QUOTA_WINDOW_MS
  readonly #lastInBucket = new Map<number, number>()

  constructor(
    readonly total: number,
    readonly intervalMs: number,
  ) {
    this.remaining = total
  }

  /** `session_start_limit` as GET /gateway/bot reports it. */
  sessionStartLimit(maxConcurrency: number) {
    this.#renew()
    return {
      total: this.total,
      remaining: this.remaining,
      reset_after: Math.max(0, this.resetAt - Date.now()),
      max_concurrency: maxConcurrency,
    }
  }

  /** Takes a session start for shard `shardId`, or says which limit refuses it. */
  take(shardId: number, maxConcurrency: number): IdentifyLimitRefusal {
    const bucket = identifyBucket(shardId, maxConcurrency)
    const now = Date.now()
    const last = this.#lastInBucket.get(bucket)
    if (last !== undefined && now - last < this.intervalMs) return 'concurrency'
    this.#renew()
    if (this.remaining <= 0) return 'quota'
    this.remaining--
    this.#lastInBucket.set(bucket, now)
    return null
  }

  reset(): void {
    this.#lastInBucket.clear()
    this.remaining = this.total
    this.resetAt = Date.now() + QUOTA_WINDOW_MS
  }

  #renew(): void {
    if (Date.now() >= this.resetAt) {
      this.remaining = this.total
      this.resetAt = Date.now() + QUOTA_WINDOW_MS
    }
  }
}
