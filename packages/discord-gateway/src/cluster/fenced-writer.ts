import type { BackoffPolicy } from '@repo/discord-integration/contracts'
import { backoffDelay } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { backoffSleep, sleep } from '../supervision/backoff'
import { batchJson, isFenceMissing, newEpoch, reseedJson } from './feed-batch'
import type { FeedRecord, FeedState, WriterStats } from './feed-record'
import { RESEED_FEED, WRITE_BATCH } from './feed-scripts'
import type { GatewayKeys, ShardRef, VoiceFeedKeys } from './keys'

export type { FeedRecord, FeedState, WriterStats } from './feed-record'

/** Options of {@link FencedWriter}. */
export interface FencedWriterOptions {
  redis: Redis
  gatewayKeys: GatewayKeys
  feedKeys: VoiceFeedKeys
  shard: ShardRef
  /** The lease's fencing token this writer writes with. */
  token: number
  /** The epoch Redis holds (null: there is no feed in Redis; call reseed() first). */
  epoch: string | null
  /** `XADD … MAXLEN ~ streamMaxLen`. */
  streamMaxLen: number
  /** Records that may wait while Redis is unreachable; one more → onOverflow. */
  maxQueue: number
  /** Records per script. @defaultValue 500 */
  maxBatch?: number
  /** Retry schedule while Redis fails. @defaultValue 100 ms doubling to 2 s, full jitter */
  backoff?: BackoffPolicy
  random?: () => number
  logger: Logger
  /** The leader's state now (for a reseed): must include every record pushed so far. */
  state(): FeedState
  /** A write was refused by the fence: this writer is closed; the leader must step down. */
  onFenced(currentFence: string): void
  /**
   * There is no fence at all (Redis lost everything): the write is retried, and the lease should
   * be checked now (it takes the lease again with a new token, see setToken, or reports it lost).
   */
  onFenceMissing?(): void
  /** The queue is full: this writer is closed; the leader must step down. */
  onOverflow(queued: number): void
  /**
   * A reseed leaves the shard's session hash alone (several guilds share it, and the session
   * moves only as the shard's writes complete in order). @defaultValue false
   */
  keepSessionOnReseed?: boolean
  /**
   * The state to seed the feed with when Redis has none (`epoch: null`), instead of the state at
   * the time of the first write: a guild new to the shard starts from before its first record, so
   * that record's events (its GUILD_CREATE's members) go into the stream. @defaultValue state()
   */
  initialState?: FeedState
}

export const WRITE_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 2_000 }

type Item =
  | { kind: 'records'; n: number; records: FeedRecord[]; json: string }
  | { kind: 'reseed'; n: number; epoch: string; json: string; why: string }

/**
 * The leader's only way to write the feed. Records go out in push order through one script per
 * batch (whatever accumulated while the previous batch was in flight, up to `maxBatch`), one batch
 * at a time. A failed batch is retried, identically, until Redis answers (the script knows a
 * batch it already applied: `duplicate`), so nothing is dropped or reordered while Redis is
 * unreachable; a full queue closes the writer (`onOverflow`) instead of dropping anything.
 * `fenced` closes it too (`onFenced`). `diverged` (Redis no longer holds our feed) replaces the
 * batch and everything queued with a reseed of the leader's state under a new epoch.
 */
export class FencedWriter {
  readonly #o: FencedWriterOptions
  readonly #queue: FeedRecord[] = []
  readonly #stop = new AbortController()
  readonly #stats: Omit<WriterStats, 'pending'> = {
    batches: 0,
    entries: 0,
    skipped: 0,
    retries: 0,
    reseeds: 0,
    fenced: 0,
    lastError: null,
  }
  #token: number
  #epoch: string | null
  #n = 0
  #inflight: Item | null = null
  #reseed: string | null = null
  #draining = false
  #closed = false
  #idle: (() => void)[] = []
  #initial: FeedState | null

  constructor(options: FencedWriterOptions) {
    this.#o = options
    this.#token = options.token
    this.#epoch = options.epoch
    this.#initial = options.epoch === null ? (options.initialState ?? null) : null
  }

  get epoch(): string | null {
    return this.#epoch
  }

  get closed(): boolean {
    return this.#closed
  }

  stats(): WriterStats {
    const pending =
      this.#queue.length + (this.#inflight?.kind === 'records' ? this.#inflight.records.length : 0)
    return { ...this.#stats, pending }
  }

  /** Queues one dispatch's record. */
  push(record: FeedRecord): void {
    if (this.#closed) return
    if (this.#queue.length >= this.#o.maxQueue) {
      this.#fail(`write queue full (${this.#queue.length} records)`)
      this.#o.onOverflow(this.#queue.length)
      return
    }
    this.#queue.push(record)
    this.#kick()
  }

  /** Writes the leader's whole state under a new epoch before anything still queued. */
  reseed(why: string): void {
    if (this.#closed) return
    this.#reseed ??= why
    this.#kick()
  }

  /** The lease was taken again with a new token (Redis lost it): later writes use it. */
  setToken(token: number): void {
    this.#token = token
    this.#n = 0
    // Rebuilt with the new token. If the old token's attempt was applied after all, the script
    // skips its records as already in the stream (same session, sequence not above meta's).
    const inflight = this.#inflight
    this.#inflight = null
    if (inflight?.kind === 'records') this.#queue.unshift(...inflight.records)
    if (inflight?.kind === 'reseed') this.#reseed ??= inflight.why
    this.#kick()
  }

  /** Resolves once nothing waits (or the writer is closed). */
  idle(): Promise<void> {
    if (this.#closed || (!this.#inflight && this.#queue.length === 0 && !this.#reseed)) {
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /** Stops writing; what is queued is dropped (the next leader resumes from what was written). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stop.abort()
    this.#queue.length = 0
    this.#inflight = null
    this.#settle()
  }

  #fail(message: string): void {
    this.#stats.lastError = { message, at: Date.now() }
    this.#o.logger.error(message)
    this.close()
  }

  #kick(): void {
    if (this.#draining) return
    this.#draining = true
    // One turn of the event loop: what arrives meanwhile goes out in the same script.
    setImmediate(() => void this.#drain())
  }

  async #drain(): Promise<void> {
    let failures = 0
    try {
      while (!this.#closed) {
        this.#inflight ??= this.#next()
        const item = this.#inflight
        if (!item) break
        let reply: unknown
        try {
          reply = await this.#send(item)
        } catch (error) {
          if (this.#closed) break
          failures++
          this.#stats.retries++
          const message = error instanceof Error ? error.message : String(error)
          this.#stats.lastError = { message, at: Date.now() }
          const delayMs = backoffDelay(
            failures,
            this.#o.backoff ?? WRITE_BACKOFF,
            (this.#o.random ?? Math.random)(),
          )
          this.#o.logger.warn(
            { err: error, retry: failures, delayMs, pending: this.stats().pending },
            'feed write failed; retrying',
          )
          try {
            await sleep(delayMs, this.#stop.signal)
          } catch {
            break
          }
          continue
        }
        if (this.#inflight !== item) continue // rebuilt meanwhile (a new token)
        if (isFenceMissing(reply)) {
          // Not a newer leader: Redis lost the fence. Retry until the lease has settled it.
          failures++
          this.#o.onFenceMissing?.()
          const random = this.#o.random ?? Math.random
          const policy = this.#o.backoff ?? WRITE_BACKOFF
          if (!(await backoffSleep(failures, policy, random, this.#stop.signal))) break
          continue
        }
        failures = 0
        this.#handle(item, reply)
      }
    } finally {
      this.#draining = false
      this.#settle()
      if (!this.#closed && (this.#queue.length > 0 || this.#reseed)) this.#kick()
    }
  }

  #next(): Item | null {
    if (this.#reseed !== null || this.#epoch === null) {
      const why = this.#reseed ?? 'no feed in Redis'
      this.#reseed = null
      return this.#buildReseed(why)
    }
    if (this.#queue.length === 0) return null
    const records = this.#queue.splice(0, this.#o.maxBatch ?? 500)
    const n = ++this.#n
    return { kind: 'records', n, records, json: batchJson(this.#epoch, n, this.#o.shard, records) }
  }

  /**
   * A reseed holds the state now, which includes every queued record: the queue is dropped. The
   * initial state (see `initialState`) is older than the queue: the queue then follows it.
   */
  #buildReseed(why: string): Item {
    const initial = this.#initial
    this.#initial = null
    const state = initial ?? this.#o.state()
    if (!initial) this.#queue.length = 0
    const epoch = newEpoch()
    const n = ++this.#n
    const keepSession = this.#o.keepSessionOnReseed === true
    const json = reseedJson(epoch, n, this.#o.shard, state, keepSession)
    return { kind: 'reseed', n, epoch, json, why }
  }

  #send(item: Item): Promise<unknown> {
    const g = this.#o.gatewayKeys
    const f = this.#o.feedKeys
    const keys = [g.fence, f.stream, f.members, f.profiles, f.meta, g.session, g.shardCount]
    const token = String(this.#token)
    if (item.kind === 'reseed') {
      // A scratch key in place of the session hash: the script deletes it and writes nothing there.
      if (this.#o.keepSessionOnReseed) keys[5] = `${f.meta}:reseed`
      return RESEED_FEED.run(this.#o.redis, keys, [token, item.json])
    }
    return WRITE_BATCH.run(this.#o.redis, keys, [token, item.json, this.#o.streamMaxLen])
  }

  #handle(item: Item, reply: unknown): void {
    const [outcome, detail, , skipped, added] = reply as [string, string, number?, number?, number?]
    this.#inflight = null
    switch (outcome) {
      case 'ok':
      case 'duplicate':
        this.#stats.batches++
        if (item.kind === 'reseed') {
          this.#epoch = item.epoch
          this.#stats.reseeds++
          this.#o.logger.warn(
            { epoch: item.epoch, why: item.why },
            'reseeded the voice feed in Redis (new epoch)',
          )
        } else if (outcome === 'ok') {
          this.#stats.entries += added ?? 0
          this.#stats.skipped += skipped ?? 0
        }
        return
      case 'fenced':
        this.#stats.fenced++
        this.#fail(
          `feed write refused by the fencing token (ours ${this.#token}, current ${detail || 'none'})`,
        )
        this.#o.onFenced(detail)
        return
      case 'diverged':
        this.#o.logger.warn(
          { why: detail, epoch: this.#epoch },
          'Redis no longer holds our feed; reseeding',
        )
        this.#reseed = `diverged: ${detail}`
        return
      default:
        this.#fail(`unexpected reply from the feed write script: ${String(outcome)}`)
    }
  }

  #settle(): void {
    if (!this.#closed && (this.#inflight || this.#queue.length > 0 || this.#reseed)) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}
