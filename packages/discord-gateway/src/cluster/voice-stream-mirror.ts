import type { BackoffPolicy, VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { backoffDelay } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { GatewayError } from '../errors'
import { sleep } from '../supervision/backoff'
import { ChannelIndex } from '../voice/channel-index'
import { diffMembers } from '../voice/voice-diff'
import type { VoiceReadApi, VoiceSnapshot } from '../voice/voice-mirror'
import { applyVoiceEvent, sortMembers } from '../voice/voice-mirror'
import type { FeedEntry } from './feed-codec'
import { pairsToObject, parseEntry, parseMembers, parseMeta, streamIdMs } from './feed-codec'
import { READ_SNAPSHOT } from './feed-scripts'
import type { VoiceFeedKeys } from './keys'

/** Where an event a mirror emits comes from. */
export type VoiceEventOrigin =
  /** A stream entry: the same on every node (build cross-node dedupe keys from epoch + id). */
  | { readonly kind: 'stream'; readonly epoch: string; readonly id: string }
  /**
   * A difference this node computed between its map and a reloaded snapshot: local to this node
   * (another node's differences may differ), never to be deduplicated across nodes.
   */
  | { readonly kind: 'resync'; readonly epoch: string; readonly id: string }

/** Why a mirror reloaded the snapshot. */
export type ResyncReason =
  /** The feed has another epoch (Redis lost it and a leader rebuilt it, or a reseed). */
  | 'epoch'
  /** The stream does not continue where this node is (trimmed past it, or Redis lost entries). */
  | 'gap'

/** What `onResync` listeners get, after the differences were emitted. */
export interface ResyncInfo {
  readonly reason: ResyncReason
  readonly snapshot: MirrorSnapshot
  /** Difference events emitted (0 = nothing had changed). */
  readonly changes: number
}

/** A snapshot with the stream position it reflects. */
export interface MirrorSnapshot extends VoiceSnapshot {
  readonly epoch: string | null
  readonly lastId: string
}

export type MirrorState =
  /** Before the first snapshot. */
  | 'starting'
  /** Applying the stream. */
  | 'following'
  /** Redis has no feed (lost, or no leader has written yet): serving the last known state. */
  | 'stale'
  | 'stopped'

/** A health view of the mirror. */
export interface MirrorStatus {
  state: MirrorState
  epoch: string | null
  lastId: string
  feedSeq: number
  /** True once the feed's snapshot was complete (a GUILD_CREATE in it) and this node caught up. */
  ready: boolean
  members: number
  /** Behind the stream's end: entries and ms (the age of the oldest entry not applied yet). */
  lag: { entries: number; ms: number; checkedAt: number | null }
  resyncs: number
  lastResync: { at: number; reason: ResyncReason; changes: number } | null
  /** Entries or members in Redis that did not parse. */
  invalid: number
  errors: number
  lastError: { message: string; at: number } | null
}

/** Options of {@link VoiceStreamMirror}. */
export interface VoiceStreamMirrorOptions {
  guildId: string
  keys: VoiceFeedKeys
  /** Commands (snapshot reads, checks): may be shared. */
  redis: Redis
  /**
   * XREAD BLOCK only; the mirror owns it (disconnects it on stop). Without it the mirror is
   * driven: a GuildsMirror reads many guilds' streams in one XREAD and hands each its entries
   * (`position`, `load`, `applyEntries`), and `wake` ends that XREAD when a check found work.
   */
  blocking?: Redis
  /** Driven mode: end the shared XREAD now. */
  wake?(): Promise<void>
  /**
   * Start as if an empty snapshot of an unknown epoch were loaded: the first read reloads and
   * emits every member as a `resync` difference (a guild that appeared while the node runs).
   */
  startEmpty?: boolean
  /** XREAD BLOCK time. @defaultValue 2_000 */
  blockMs?: number
  /** How often the position, epoch and lag are checked. @defaultValue 1_000 */
  checkMs?: number
  /** Entries per XREAD. @defaultValue 500 */
  count?: number
  /** Between retries while Redis fails. @defaultValue 200 ms doubling to 5 s, full jitter */
  backoff?: BackoffPolicy
  random?: () => number
  logger: Logger
}

export const MIRROR_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000 }

/**
 * Every node's reader of a guild's voice feed (implements the read API the web app uses).
 *
 * It reads meta + members in one script, then follows the stream with XREAD BLOCK from that
 * snapshot's lastId on its own connection, applying each entry to a local member map with
 * `applyVoiceEvent` and emitting the event with its origin (epoch + entry id). An entry of
 * another epoch, or one whose feedSeq does not follow, means the stream cannot fill the gap:
 * it reloads the snapshot, emits the differences marked `resync`, and tells `onResync`
 * listeners (who re-snapshot their browsers). A periodic check catches what XREAD cannot see
 * (an epoch change without new entries, a trimmed stream, a Redis that lost everything, in which
 * case it keeps serving its last state as `stale` until a leader rebuilds the feed) and measures
 * the lag. Redis errors are retried forever with the project's backoff.
 */
export class VoiceStreamMirror implements VoiceReadApi {
  readonly #o: VoiceStreamMirrorOptions
  readonly #listeners = new Set<(event: VoiceEvent, origin: VoiceEventOrigin) => void>()
  readonly #resyncListeners = new Set<(info: ResyncInfo) => void>()
  readonly #stop = new AbortController()
  #members = new Map<string, VoiceMember>()
  #channels = new ChannelIndex()
  #state: MirrorState = 'starting'
  #epoch: string | null = null
  #lastId = '0-0'
  #feedSeq = 0
  #loaded = false
  #reload: ResyncReason | null = null
  #ready = false
  #markReady: () => void = () => {}
  readonly #readyPromise = new Promise<void>((resolve) => {
    this.#markReady = resolve
  })
  #lag: MirrorStatus['lag'] = { entries: 0, ms: 0, checkedAt: null }
  #resyncs = 0
  #lastResync: MirrorStatus['lastResync'] = null
  #invalid = 0
  #errors = 0
  #lastError: MirrorStatus['lastError'] = null
  #blockingId: number | null = null
  #stopped = false
  #loop: Promise<void> | null = null
  #checkTimer: NodeJS.Timeout | null = null
  #checking = false
  /** The feed's end as read for the callers of caughtUp() that joined before it was sent. */
  #nextEnd: Promise<{ epoch: string; feedSeq: number } | null> | null = null
  readonly #catchUpWaiters = new Set<{ epoch: string; feedSeq: number; done: () => void }>()

  constructor(options: VoiceStreamMirrorOptions) {
    this.#o = options
    if (options.startEmpty) {
      this.#loaded = true
      this.#reload = 'epoch'
      this.#state = 'following'
    }
  }

  /** Starts following; resolves after the first attempt to load the snapshot (it keeps trying). */
  async start(): Promise<void> {
    if (this.#loop) return
    if (!this.#o.blocking) {
      // Driven: the first load here, the reading by the driver.
      this.#loop = Promise.resolve()
      this.#scheduleCheck()
      if (this.needsLoad()) await this.load().catch((error: unknown) => this.#recordError(error))
      return
    }
    let first: () => void = () => {}
    const loaded = new Promise<void>((resolve) => {
      first = resolve
    })
    this.#loop = this.#run(first)
    this.#scheduleCheck()
    await loaded
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#state = 'stopped'
    this.#stop.abort()
    if (this.#checkTimer) clearTimeout(this.#checkTimer)
    this.#o.blocking?.disconnect()
    await this.#loop
  }

  // ---- driven mode (see `blocking`) ---------------------------------------------------------------

  /** The snapshot must be (re)loaded before the stream can be applied. */
  needsLoad(): boolean {
    return !this.#loaded || this.#reload !== null
  }

  /** Loads the snapshot (and emits the differences); false when Redis has no feed yet. */
  load(): Promise<boolean> {
    return this.#load()
  }

  /** Where to read this guild's stream from, or null while a load is due. */
  position(): { key: string; id: string } | null {
    if (this.needsLoad() || this.#stopped) return null
    return { key: this.#o.keys.stream, id: this.#lastId }
  }

  /** Applies entries read from the stream (stops at the first that needs a reload). */
  applyEntries(entries: readonly unknown[]): void {
    for (const raw of entries) if (!this.#applyEntry(raw)) break
    if (this.#catchUpWaiters.size > 0) this.#wakeCatchUpWaiters()
  }

  /** Driven mode: a Redis failure of the shared reader, counted here too. */
  readFailed(error: unknown): void {
    this.#recordError(error)
  }

  /** Resolves once the mirror holds a complete snapshot and has caught up with the stream. */
  ready(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) return this.#readyPromise
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new GatewayError('READY_TIMEOUT', `voice mirror not ready after ${timeoutMs} ms`)),
        timeoutMs,
      )
      void this.#readyPromise.then(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Called after a reload replaced the map (its differences were emitted just before). */
  onResync(listener: (info: ResyncInfo) => void): () => void {
    this.#resyncListeners.add(listener)
    return () => {
      this.#resyncListeners.delete(listener)
    }
  }

  /**
   * Resolves true once this node has applied every entry the stream held when it was called, so
   * that what it reads next (a browser's snapshot) includes everything another node may already
   * have published from the stream; false after `timeoutMs` (or when Redis does not answer).
   * Callers in the same turn of the event loop share one read of the feed's end.
   */
  async caughtUp(timeoutMs = 1_000): Promise<boolean> {
    if (this.#stopped) return false
    this.#nextEnd ??= new Promise((resolve) => {
      setImmediate(() => {
        this.#nextEnd = null
        this.#o.redis.hmget(this.#o.keys.meta, 'epoch', 'feedSeq').then(
          ([epoch, feedSeq]) =>
            resolve(epoch ? { epoch, feedSeq: Number(feedSeq ?? 0) } : { epoch: '', feedSeq: 0 }),
          () => resolve(null),
        )
      })
    })
    const end = await this.#nextEnd
    if (!end) return false
    // No feed in Redis: nothing to wait for (the last state is served, as `stale`).
    if (end.epoch === '' || this.#reached(end)) return true
    return new Promise<boolean>((resolve) => {
      const waiter = {
        ...end,
        done: () => {
          clearTimeout(timer)
          this.#catchUpWaiters.delete(waiter)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        this.#catchUpWaiters.delete(waiter)
        resolve(false)
      }, timeoutMs)
      this.#catchUpWaiters.add(waiter)
    })
  }

  #reached(end: { epoch: string; feedSeq: number }): boolean {
    return this.#loaded && this.#epoch === end.epoch && this.#feedSeq >= end.feedSeq
  }

  #wakeCatchUpWaiters(): void {
    for (const waiter of this.#catchUpWaiters) if (this.#reached(waiter)) waiter.done()
  }

  snapshot(): MirrorSnapshot {
    return {
      guildId: this.#o.guildId,
      feedSeq: this.#feedSeq,
      members: sortMembers(this.#members.values()),
      epoch: this.#epoch,
      lastId: this.#lastId,
    }
  }

  channelMembers(channelId: string): VoiceMember[] {
    return this.#channels.members(channelId)
  }

  memberChannel(userId: string): string | null {
    return this.#members.get(userId)?.channelId ?? null
  }

  status(): MirrorStatus {
    return {
      state: this.#state,
      epoch: this.#epoch,
      lastId: this.#lastId,
      feedSeq: this.#feedSeq,
      ready: this.#ready,
      members: this.#members.size,
      lag: { ...this.#lag },
      resyncs: this.#resyncs,
      lastResync: this.#lastResync,
      invalid: this.#invalid,
      errors: this.#errors,
      lastError: this.#lastError,
    }
  }

  // ---- the reading loop -----------------------------------------------------------------------

  async #run(firstLoad: () => void): Promise<void> {
    const blockMs = this.#o.blockMs ?? 2_000
    let failures = 0
    while (!this.#stopped) {
      try {
        if (!this.#loaded || this.#reload) {
          const found = await this.#load()
          firstLoad()
          if (!found) {
            await sleep(this.#o.checkMs ?? 1_000, this.#stop.signal)
            continue
          }
        }
        const blocking = this.#o.blocking
        if (!blocking) return
        this.#blockingId ??= Number(await blocking.client('ID'))
        const startedAt = Date.now()
        const reply = (await blocking.xread(
          'COUNT',
          this.#o.count ?? 500,
          'BLOCK',
          blockMs,
          'STREAMS',
          this.#o.keys.stream,
          this.#lastId,
        )) as [string, unknown[]][] | null
        failures = 0
        if (reply) {
          for (const raw of reply[0]?.[1] ?? []) if (!this.#applyEntry(raw)) break
          if (this.#catchUpWaiters.size > 0) this.#wakeCatchUpWaiters()
        } else if (Date.now() - startedAt > blockMs + 1_500) {
          // ioredis gave up on a silent socket: start a fresh one.
          this.#blockingId = null
          blocking.disconnect(true)
        }
      } catch (error) {
        firstLoad()
        if (this.#stopped) break
        this.#blockingId = null
        failures++
        this.#recordError(error)
        const delayMs = backoffDelay(
          failures,
          this.#o.backoff ?? MIRROR_BACKOFF,
          (this.#o.random ?? Math.random)(),
        )
        try {
          await sleep(delayMs, this.#stop.signal)
        } catch {
          break
        }
      }
    }
  }

  /** Reads meta + members atomically; false when Redis has no feed (the last state is kept). */
  async #load(): Promise<boolean> {
    const reply = (await READ_SNAPSHOT.run(
      this.#o.redis,
      [this.#o.keys.meta, this.#o.keys.members],
      [],
    )) as [unknown, unknown]
    const meta = parseMeta(pairsToObject(reply[0]))
    if (!meta) {
      if (this.#loaded && this.#state !== 'stale') {
        this.#o.logger.warn('the voice feed is gone from Redis; serving the last known state')
      }
      if (!this.#stopped) this.#state = this.#loaded ? 'stale' : 'starting'
      return false
    }
    const { members, invalid } = parseMembers(reply[1])
    this.#invalid += invalid
    const next = new Map(members.map((m) => [m.userId, m]))
    const reason = this.#reload
    const changes = this.#loaded
      ? diffMembers(this.#o.guildId, this.#members, next, meta.feedSeq, Date.now())
      : []
    this.#members = next
    this.#channels = ChannelIndex.of(next.values())
    this.#epoch = meta.epoch
    this.#lastId = meta.lastId
    this.#feedSeq = meta.feedSeq
    this.#loaded = true
    this.#reload = null
    if (!this.#stopped) this.#state = 'following'
    if (meta.synced) this.#setReady()
    this.#wakeCatchUpWaiters()
    if (reason) {
      this.#resyncs++
      this.#lastResync = { at: Date.now(), reason, changes: changes.length }
      this.#o.logger.warn(
        { reason, changes: changes.length, epoch: meta.epoch, lastId: meta.lastId },
        'voice mirror reloaded the snapshot',
      )
      const origin: VoiceEventOrigin = { kind: 'resync', epoch: meta.epoch, id: meta.lastId }
      for (const event of changes) this.#emit(event, origin)
      const info: ResyncInfo = { reason, snapshot: this.snapshot(), changes: changes.length }
      for (const listener of this.#resyncListeners) {
        try {
          listener(info)
        } catch (error) {
          this.#o.logger.error({ err: error }, 'voice mirror resync listener threw')
        }
      }
    }
    return true
  }

  /** Applies one entry; false when it cannot (the snapshot must be reloaded first). */
  #applyEntry(raw: unknown): boolean {
    const entry: FeedEntry | null = parseEntry(raw)
    if (!entry?.event) {
      this.#invalid++
      return this.#needReload('gap', 'an unreadable stream entry')
    }
    if (entry.epoch !== this.#epoch) return this.#needReload('epoch', `epoch ${entry.epoch}`)
    if (entry.feedSeq !== this.#feedSeq + 1) {
      return this.#needReload('gap', `feedSeq ${entry.feedSeq} after ${this.#feedSeq}`)
    }
    this.#lastId = entry.id
    this.#feedSeq = entry.feedSeq
    applyVoiceEvent(this.#members, entry.event)
    this.#channels.apply(entry.event)
    this.#emit(entry.event, { kind: 'stream', epoch: entry.epoch, id: entry.id })
    return true
  }

  #needReload(reason: ResyncReason, detail: string): false {
    if (!this.#reload)
      this.#o.logger.info({ reason, detail }, 'voice mirror must reload the snapshot')
    this.#reload ??= reason
    return false
  }

  #emit(event: VoiceEvent, origin: VoiceEventOrigin): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, origin)
      } catch (error) {
        this.#o.logger.error({ err: error, feedSeq: event.feedSeq }, 'voice mirror listener threw')
      }
    }
  }

  #setReady(): void {
    if (this.#ready) return
    this.#ready = true
    this.#markReady()
  }

  #recordError(error: unknown): void {
    this.#errors++
    const message = error instanceof Error ? error.message : String(error)
    this.#lastError = { message, at: Date.now() }
    this.#o.logger.warn({ err: error }, 'voice mirror: Redis failed; retrying')
  }

  // ---- the periodic check -----------------------------------------------------------------------

  #scheduleCheck(): void {
    if (this.#stopped) return
    this.#checkTimer = setTimeout(() => {
      void this.#check().finally(() => this.#scheduleCheck())
    }, this.#o.checkMs ?? 1_000)
    this.#checkTimer.unref()
  }

  /**
   * What the blocking read cannot see: the feed's epoch (changed or gone without a new entry),
   * whether the stream still continues right after our lastId, and how far behind we are.
   */
  async #check(): Promise<void> {
    if (this.#checking || !this.#loaded || this.#stopped) return
    this.#checking = true
    try {
      const lastId = this.#lastId
      const feedSeq = this.#feedSeq
      const results = await this.#o.redis
        .multi()
        .hmget(this.#o.keys.meta, 'epoch', 'feedSeq', 'synced')
        .time()
        .xrange(this.#o.keys.stream, `(${lastId}`, '+', 'COUNT', 1)
        .exec()
      if (!results || results.some(([error]) => error)) throw new Error('the feed check failed')
      const [epoch, metaFeedSeq, synced] = (results[0]?.[1] ?? []) as (string | null)[]
      const [seconds, micros] = (results[1]?.[1] ?? ['0', '0']) as [string, string]
      const next = parseEntry(((results[2]?.[1] ?? []) as unknown[])[0])
      if (this.#lastId !== lastId || this.#reload) return // moved on meanwhile
      if (!epoch) {
        // The loop keeps serving the last state (stale) and reloads once a leader rebuilt the feed.
        this.#needReload('epoch', 'the feed is gone from Redis')
        await this.#wakeUp('the voice feed is gone from Redis')
        return
      }
      if (epoch !== this.#epoch) {
        this.#needReload('epoch', `meta epoch ${epoch}`)
        await this.#wakeUp('the voice feed has a new epoch')
        return
      }
      if (next && next.feedSeq !== feedSeq + 1) {
        this.#needReload('gap', `the entry after ${lastId} has feedSeq ${next.feedSeq}`)
        await this.#wakeUp('the stream no longer continues where this node is')
        return
      }
      const behind = Math.max(0, Number(metaFeedSeq ?? 0) - feedSeq)
      const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
      this.#lag = {
        entries: behind,
        ms: behind > 0 && next ? Math.max(0, redisNow - streamIdMs(next.id)) : 0,
        checkedAt: Date.now(),
      }
      if (this.#state === 'stale') this.#state = 'following'
      if (synced === '1' && behind === 0) this.#setReady()
    } catch (error) {
      if (!this.#stopped) this.#recordError(error)
    } finally {
      this.#checking = false
    }
  }

  /** Ends the reader's XREAD at once (CLIENT UNBLOCK), so it acts on what the check found. */
  async #wakeUp(why: string): Promise<void> {
    if (this.#o.wake) {
      await this.#o.wake()
      return
    }
    if (this.#blockingId === null) return
    this.#o.logger.debug({ why }, 'waking the voice mirror up')
    await this.#o.redis.client('UNBLOCK', this.#blockingId)
  }
}
