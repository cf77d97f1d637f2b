import type { APIGatewayBotInfo } from 'discord-api-types/v10'
import type { Clock } from '../supervision/clock'

type SessionStartLimit = APIGatewayBotInfo['session_start_limit']

/**
 * Discord's identify rate limit: `max_concurrency` buckets (`shard_id % max_concurrency`), one
 * IDENTIFY per bucket every `spacingMs` (5 s; docs events/gateway "Max Concurrency"). Shared by
 * every shard's connection in a process, so shards of one bucket identify one after the other and
 * shards of different buckets at the same time. Waiters of a bucket go in arrival order.
 */
export class IdentifyBuckets {
  readonly #clock: Clock
  readonly #spacingMs: number
  readonly #buckets = new Map<number, { lastAt: number; queue: Promise<void> }>()

  constructor(clock: Clock, spacingMs: number) {
    this.#clock = clock
    this.#spacingMs = spacingMs
  }

  /** Resolves when bucket `bucket` may IDENTIFY now (and counts it as used); rejects only on abort. */
  async take(bucket: number, signal: AbortSignal): Promise<void> {
    const entry = this.#buckets.get(bucket) ?? {
      lastAt: Number.NEGATIVE_INFINITY,
      queue: Promise.resolve(),
    }
    this.#buckets.set(bucket, entry)
    const before = entry.queue
    let release: () => void = () => {}
    entry.queue = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      await before
      signal.throwIfAborted()
      const wait = entry.lastAt + this.#spacingMs - this.#clock.now()
      if (wait > 0) await this.#clock.sleep(wait, signal)
      signal.throwIfAborted()
      entry.lastAt = this.#clock.now()
    } finally {
      release()
    }
  }
}

/** What the {@link IdentifyGate} needs from the connection. */
export interface IdentifyGateOptions {
  clock: Clock
  /** The breaker opens (no IDENTIFY) while fewer identifies than this remain in the daily budget. */
  minRemaining: number
  /** Minimum spacing between two IDENTIFYs of one bucket (Discord allows max_concurrency per 5 s). */
  spacingMs: number
  /** The shard the gate identifies (its bucket is `shardId % max_concurrency`). @defaultValue 0 */
  shardId?: number
  /** The process's buckets, shared by its shards. @defaultValue buckets of this gate alone */
  buckets?: IdentifyBuckets
  /** The budget as Discord reports it now (GET /gateway/bot, retried until it answers). */
  sessionStartLimit(signal: AbortSignal): Promise<SessionStartLimit>
  /** The breaker opened: raise the alert; the gate then waits `waitMs` and asks again. */
  onBreakerOpen(limit: SessionStartLimit, waitMs: number): void
}

/**
 * Decides when the next IDENTIFY may go out. Running out of the identify budget ends every session
 * and resets the bot token (Discord docs, session_start_limit), so below `minRemaining` the gate
 * stays shut until the budget resets; and two IDENTIFYs of one concurrency bucket are at least
 * `spacingMs` apart (see {@link IdentifyBuckets}). @discordjs/ws has no budget check of its own
 * and asks its strategy (`waitForIdentify`) before every IDENTIFY, which is where the connection
 * calls {@link IdentifyGate.wait}.
 */
export class IdentifyGate {
  readonly #options: IdentifyGateOptions
  readonly #buckets: IdentifyBuckets

  constructor(options: IdentifyGateOptions) {
    this.#options = options
    this.#buckets = options.buckets ?? new IdentifyBuckets(options.clock, options.spacingMs)
  }

  /** Resolves when an IDENTIFY may be sent now (and counts it as sent); rejects only on abort. */
  async wait(signal: AbortSignal): Promise<void> {
    const { clock, minRemaining } = this.#options
    let limit: SessionStartLimit
    for (;;) {
      limit = await this.#options.sessionStartLimit(signal)
      if (limit.remaining >= minRemaining) break
      const waitMs = Math.max(limit.reset_after, 1000)
      this.#options.onBreakerOpen(limit, waitMs)
      await clock.sleep(waitMs, signal)
    }
    const concurrency = Math.max(1, limit.max_concurrency || 1)
    await this.#buckets.take((this.#options.shardId ?? 0) % concurrency, signal)
  }
}
