import type { BackoffPolicy } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import { backoffSleep, sleep } from '../supervision/backoff'
import { connected, reconnect } from './redis-connections'

/** A stream to read, after the entry `id`. */
export interface StreamPosition {
  readonly key: string
  readonly id: string
}

/** Between retries while Redis fails: 200 ms doubling to 5 s, full jitter. */
export const STREAM_READ_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000 }

/** Options of {@link StreamReader}. */
export interface StreamReaderOptions {
  /** Commands connection (CLIENT UNBLOCK for `wake`). */
  redis: Redis
  /** XREAD BLOCK only; the reader owns it (disconnects it on stop). */
  blocking: Redis
  /** XREAD BLOCK time; also the wait when there is nothing to read. */
  blockMs: number
  /** Entries per stream per XREAD. */
  count: number
  backoff?: BackoffPolicy
  random?: () => number
  /** Before every read (snapshot loads, registry reads); a throw counts as a Redis failure. */
  prepare(): Promise<void>
  /** The streams to read this turn, each after its position. */
  positions(): readonly StreamPosition[]
  /** One read's new entries by stream key (only streams that had some). */
  apply(entries: Map<string, unknown[]>): Promise<void> | void
  /** A failed turn (it is retried after the backoff). */
  onError(error: unknown): void
}

/**
 * The loop of XREAD BLOCK over a changing set of streams, on its own connection: prepare, read,
 * apply, and on a Redis failure back off and go on, forever. `wake()` ends the pending XREAD at
 * once (CLIENT UNBLOCK), for a caller that found work the read cannot see. When ioredis ends a
 * read on a socket that went silent (its blocking timeout), the connection is replaced, and the
 * next read waits for the new one to be ready.
 */
export class StreamReader {
  readonly #o: StreamReaderOptions
  readonly #stop = new AbortController()
  #blockingId: number | null = null
  #loop: Promise<void> | null = null

  constructor(options: StreamReaderOptions) {
    this.#o = options
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return
    this.#stop.abort()
    this.#o.blocking.disconnect()
    await this.#loop
  }

  /** Ends the pending XREAD now, so that the next turn acts on what changed. */
  async wake(): Promise<void> {
    if (this.#blockingId === null) return
    await this.#o.redis.client('UNBLOCK', this.#blockingId)
  }

  async #run(): Promise<void> {
    const { blocking, blockMs, count } = this.#o
    const signal = this.#stop.signal
    let failures = 0
    while (!signal.aborted) {
      try {
        await this.#o.prepare()
        const streams = this.#o.positions()
        if (streams.length === 0) {
          await sleep(blockMs, signal).catch(() => {})
          continue
        }
        if (this.#blockingId === null) {
          // A new or replaced connection: wait for it rather than fail on it (no offline queue).
          await connected(blocking, 2_000, signal)
          if (signal.aborted) break
          this.#blockingId = Number(await blocking.client('ID'))
        }
        const startedAt = Date.now()
        const reply = (await blocking.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...streams.map((s) => s.key),
          ...streams.map((s) => s.id),
        )) as [string, unknown[]][] | null
        failures = 0
        if (reply) {
          await this.#o.apply(new Map(reply))
        } else if (Date.now() - startedAt > blockMs + 1_500) {
          // ioredis gave up on a silent socket: start a fresh one.
          this.#blockingId = null
          await reconnect(blocking, 2_000, signal)
        }
      } catch (error) {
        if (signal.aborted) break
        this.#blockingId = null
        failures++
        this.#o.onError(error)
        const policy = this.#o.backoff ?? STREAM_READ_BACKOFF
        if (!(await backoffSleep(failures, policy, this.#o.random ?? Math.random, signal))) break
      }
    }
  }
}
