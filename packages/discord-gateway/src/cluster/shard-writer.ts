import type { BackoffPolicy } from '@repo/discord-integration/contracts'
import { backoffDelay } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { GuildChange, GuildPresence } from '../guilds/guild-voice'
import { sleep } from '../supervision/backoff'
import { WRITE_GUILD_CHANGE } from './feed-scripts'
import type { FeedRecord, FeedState, WriterStats } from './fenced-writer'
import { FencedWriter, WRITE_BACKOFF } from './fenced-writer'
import type { GatewayKeys, GuildKeys, ShardRef } from './keys'
import { voiceFeedKeys } from './keys'

/** One thing a shard leader writes, in dispatch order. */
export type ShardItem =
  | {
      readonly kind: 'voice'
      readonly guildId: string
      readonly record: FeedRecord
      /** A guild new to the shard: its feed starts from this state (before the record). */
      readonly baseline?: FeedState
    }
  | {
      readonly kind: 'guild'
      readonly guildId: string
      /** The guild's registry entry now (null: it is gone). */
      readonly presence: GuildPresence | null
      /** The change to announce (null: only the registry entry changed). */
      readonly change: GuildChange | null
      readonly sessionId: string | null
      readonly seq: number
      readonly resumeURL: string | null
      /** The shard's READY guilds all settled (null: unchanged). */
      readonly settled?: boolean | null
    }

/** Options of {@link ShardWriter}. */
export interface ShardWriterOptions {
  redis: Redis
  prefix: string
  gatewayKeys: GatewayKeys
  guildKeys: GuildKeys
  shard: ShardRef
  token: number
  /** Each restored guild's feed epoch in Redis (a guild without one is reseeded first). */
  epochs: ReadonlyMap<string, string | null>
  streamMaxLen: number
  /** Items that may wait; one more → onOverflow. */
  maxQueue: number
  logger: Logger
  /** A guild's whole state (for its reseed). */
  guildState(guildId: string): FeedState
  /** A guild's registry entry now (rewritten after its feed was reseeded). */
  guildPresence(guildId: string): GuildPresence | null
  onFenced(): void
  onOverflow(): void
  onFenceMissing(): void
  backoff?: BackoffPolicy
  random?: () => number
}

/**
 * The shard leader's only way to write: every guild's voice records and the guild list's
 * changes go out in dispatch order, one guild's run of records at a time through that guild's
 * {@link FencedWriter} (waited for before the next guild), guild changes through
 * WRITE_GUILD_CHANGE. The shard's session hash therefore only ever reflects a prefix of the
 * shard's dispatches that is entirely in Redis, which is what lets the next leader RESUME from it
 * without losing a guild's event.
 */
export class ShardWriter {
  readonly #o: ShardWriterOptions
  readonly #queue: ShardItem[] = []
  readonly #writers = new Map<string, FencedWriter>()
  readonly #stop = new AbortController()
  #token: number
  #draining = false
  #closed = false
  #guildChanges = 0
  #idle: (() => void)[] = []
  #lastError: { message: string; at: number } | null = null

  constructor(options: ShardWriterOptions) {
    this.#o = options
    this.#token = options.token
  }

  get closed(): boolean {
    return this.#closed
  }

  push(item: ShardItem): void {
    if (this.#closed) return
    if (this.#queue.length >= this.#o.maxQueue) {
      this.#o.logger.error({ queued: this.#queue.length }, 'shard write queue full')
      this.close()
      this.#o.onOverflow()
      return
    }
    this.#queue.push(item)
    if (!this.#draining) {
      this.#draining = true
      setImmediate(() => void this.#drain())
    }
  }

  setToken(token: number): void {
    this.#token = token
    for (const writer of this.#writers.values()) writer.setToken(token)
  }

  /** Resolves once nothing waits (or the writer is closed). */
  idle(): Promise<void> {
    if (this.#closed || (!this.#draining && this.#queue.length === 0)) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stop.abort()
    this.#queue.length = 0
    for (const writer of this.#writers.values()) writer.close()
    this.#settle()
  }

  stats(): WriterStats & { guildChanges: number; guilds: number } {
    const sum: WriterStats = {
      batches: 0,
      entries: 0,
      skipped: 0,
      retries: 0,
      reseeds: 0,
      fenced: 0,
      pending: this.#queue.length,
      lastError: this.#lastError,
    }
    for (const writer of this.#writers.values()) {
      const s = writer.stats()
      sum.batches += s.batches
      sum.entries += s.entries
      sum.skipped += s.skipped
      sum.retries += s.retries
      sum.reseeds += s.reseeds
      sum.fenced += s.fenced
      sum.pending += s.pending
      if (s.lastError && (!sum.lastError || s.lastError.at > sum.lastError.at)) {
        sum.lastError = s.lastError
      }
    }
    return { ...sum, guildChanges: this.#guildChanges, guilds: this.#writers.size }
  }

  #writer(guildId: string, baseline?: FeedState): FencedWriter {
    let writer = this.#writers.get(guildId)
    if (writer) return writer
    writer = new FencedWriter({
      redis: this.#o.redis,
      gatewayKeys: this.#o.gatewayKeys,
      feedKeys: voiceFeedKeys(this.#o.prefix, guildId),
      shard: this.#o.shard,
      token: this.#token,
      epoch: this.#o.epochs.get(guildId) ?? null,
      streamMaxLen: this.#o.streamMaxLen,
      maxQueue: this.#o.maxQueue,
      keepSessionOnReseed: true,
      ...(baseline ? { initialState: baseline } : {}),
      logger: this.#o.logger.child({ guildId }),
      state: () => this.#o.guildState(guildId),
      onFenced: () => {
        this.close()
        this.#o.onFenced()
      },
      onOverflow: () => {
        this.close()
        this.#o.onOverflow()
      },
      onFenceMissing: () => this.#o.onFenceMissing(),
    })
    this.#writers.set(guildId, writer)
    return writer
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const head = this.#queue[0] as ShardItem
        if (head.kind === 'voice') {
          // The run of this guild's records at the head of the queue goes out together.
          let n = 0
          while (n < this.#queue.length) {
            const item = this.#queue[n] as ShardItem
            if (item.kind !== 'voice' || item.guildId !== head.guildId) break
            n++
          }
          const writer = this.#writer(head.guildId, head.baseline)
          const reseeds = writer.stats().reseeds
          for (const item of this.#queue.splice(0, n)) {
            if (item.kind === 'voice') writer.push(item.record)
          }
          await writer.idle()
          const presence = this.#o.guildPresence(head.guildId)
          if (writer.stats().reseeds > reseeds && presence && !this.#closed) {
            // Redis may have lost the registry with the feed: write the guild's entry again.
            await this.#writeGuildChange({
              kind: 'guild',
              guildId: head.guildId,
              presence,
              change: null,
              sessionId: null,
              seq: 0,
              resumeURL: null,
            })
          }
          continue
        }
        await this.#writeGuildChange(head)
        if (this.#closed) break
        this.#queue.shift()
        if (head.presence === null) {
          this.#writers.get(head.guildId)?.close()
          this.#writers.delete(head.guildId)
        }
      }
    } finally {
      this.#draining = false
      this.#settle()
      if (!this.#closed && this.#queue.length > 0) {
        this.#draining = true
        setImmediate(() => void this.#drain())
      }
    }
  }

  /** Retried until Redis answers; a refusal by the fence closes the writer. */
  async #writeGuildChange(item: Extract<ShardItem, { kind: 'guild' }>): Promise<void> {
    for (let failures = 1; !this.#closed; failures++) {
      let reply: [string, string]
      try {
        reply = (await WRITE_GUILD_CHANGE.run(
          this.#o.redis,
          [
            this.#o.gatewayKeys.fence,
            this.#o.guildKeys.registry,
            this.#o.guildKeys.events,
            this.#o.gatewayKeys.session,
            this.#o.guildKeys.shards,
          ],
          [
            String(this.#token),
            item.guildId,
            item.presence
              ? JSON.stringify({
                  name: item.presence.name,
                  available: item.presence.available,
                  shardId: item.presence.shardId,
                })
              : '',
            item.change ? JSON.stringify(item.change) : '',
            item.sessionId ?? '',
            String(item.seq),
            String(this.#o.shard.id),
            String(this.#o.shard.count),
            item.resumeURL ?? '',
            String(Date.now()),
            String(this.#o.streamMaxLen),
            item.settled === true ? '1' : item.settled === false ? '0' : '',
          ],
        )) as [string, string]
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        this.#lastError = { message, at: Date.now() }
        const delayMs = backoffDelay(
          failures,
          this.#o.backoff ?? WRITE_BACKOFF,
          (this.#o.random ?? Math.random)(),
        )
        this.#o.logger.warn({ err: error, delayMs }, 'guild change write failed; retrying')
        try {
          await sleep(delayMs, this.#stop.signal)
        } catch {
          return
        }
        continue
      }
      if (reply[0] === 'ok') {
        if (item.change) this.#guildChanges++
        return
      }
      if (reply[1] === '') {
        // No fence at all (Redis lost it): the lease settles it; retry meanwhile.
        this.#o.onFenceMissing()
        try {
          await sleep(backoffDelay(failures, WRITE_BACKOFF, Math.random()), this.#stop.signal)
        } catch {
          return
        }
        continue
      }
      this.#lastError = { message: 'guild change refused by the fencing token', at: Date.now() }
      this.close()
      this.#o.onFenced()
      return
    }
  }

  #settle(): void {
    if (!this.#closed && (this.#draining || this.#queue.length > 0)) return
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}
