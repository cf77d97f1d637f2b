import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { Listeners } from '../supervision/listeners'
import { readyWithin } from '../supervision/ready-latch'
import { ChannelIndex } from '../voice/channel-index'
import { diffMembers } from '../voice/voice-diff'
import type { VoiceReadApi } from '../voice/voice-mirror'
import { applyVoiceEvent, sortMembers } from '../voice/voice-mirror'
import { CatchUpWaiters } from './catch-up-waiters'
import type { FeedEntry } from './feed-codec'
import { parseEntry, streamIdMs } from './feed-codec'
import type { FeedEnd } from './feed-reads'
import { readFeedCheck, readFeedEnd, readFeedSnapshot } from './feed-reads'
import type { VoiceFeedKeys } from './keys'
import type {
  MirrorSnapshot,
  MirrorState,
  MirrorStatus,
  ResyncInfo,
  ResyncReason,
  VoiceEventOrigin,
} from './mirror-contract'

/** Options of {@link VoiceStreamMirror}. */
export interface VoiceStreamMirrorOptions {
  guildId: string
  keys: VoiceFeedKeys
  /** Commands (snapshot reads, checks): may be shared. */
  redis: Redis
  /** End the reader's pending XREAD now (a check found work the read cannot see). */
  wake(): Promise<void>
  /**
   * Start as if an empty snapshot of an unknown epoch were loaded: the first read reloads and
   * emits every member as a `resync` difference (a guild that appeared while the node runs).
   */
  startEmpty?: boolean
  /** How often the position, epoch and lag are checked. @defaultValue 1_000 */
  checkMs?: number
  logger: Logger
}

/**
 * Every node's copy of one guild's voice feed (implements the read API the web app uses). It does
 * not read the stream itself: a reader (GuildsMirror's StreamReader, one XREAD for every guild)
 * asks it what to load and where to read (`needsLoad`, `load`, `position`) and hands it the
 * entries (`applyEntries`).
 *
 * `load` reads meta + members in one script; each entry is applied to a local member map with
 * `applyVoiceEvent` and emitted with its origin (epoch + entry id). An entry of another epoch, or
 * one whose feedSeq does not follow, means the stream cannot fill the gap: the next load replaces
 * the map, emits the differences marked `resync`, and tells `onResync` listeners (who
 * re-snapshot their browsers). A periodic check catches what a read cannot see (an epoch change
 * without new entries, a trimmed stream, a Redis that lost everything, in which case the last
 * state is served as `stale` until a leader rebuilds the feed) and measures the lag.
 */
export class VoiceStreamMirror implements VoiceReadApi {
  readonly #o: VoiceStreamMirrorOptions
  readonly #listeners = new Listeners<[event: VoiceEvent, origin: VoiceEventOrigin]>()
  readonly #resyncListeners = new Listeners<[info: ResyncInfo]>()
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
  #started = false
  #stopped = false
  #checkTimer: NodeJS.Timeout | null = null
  #checking = false
  readonly #catchUp: CatchUpWaiters

  constructor(options: VoiceStreamMirrorOptions) {
    this.#o = options
    this.#catchUp = new CatchUpWaiters(
      () => readFeedEnd(options.redis, options.keys),
      (end) => this.#reached(end),
    )
    if (options.startEmpty) {
      this.#loaded = true
      this.#reload = 'epoch'
      this.#state = 'following'
    }
  }

  /** Starts the periodic check; resolves after the first attempt to load the snapshot. */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#scheduleCheck()
    if (this.needsLoad()) await this.load().catch((error: unknown) => this.#recordError(error))
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#state = 'stopped'
    if (this.#checkTimer) clearTimeout(this.#checkTimer)
  }

  // ---- what the reader calls ----------------------------------------------------------------------

  /** The snapshot must be (re)loaded before the stream can be applied. */
  needsLoad(): boolean {
    return !this.#loaded || this.#reload !== null
  }

  /** Where to read this guild's stream from, or null while a load is due. */
  position(): { key: string; id: string } | null {
    if (this.needsLoad() || this.#stopped) return null
    return { key: this.#o.keys.stream, id: this.#lastId }
  }

  /** Applies entries read from the stream (stops at the first that needs a reload). */
  applyEntries(entries: readonly unknown[]): void {
    for (const raw of entries) if (!this.#applyEntry(raw)) break
    this.#catchUp.check()
  }

  /** A Redis failure of the reader, counted here too. */
  readFailed(error: unknown): void {
    this.#recordError(error)
  }

  /**
   * Loads the snapshot (and emits the differences when it replaces one); false when Redis has no
   * feed (the last state is kept, as `stale`).
   */
  async load(): Promise<boolean> {
    const { meta, members, invalid } = await readFeedSnapshot(this.#o.redis, this.#o.keys)
    if (!meta) {
      if (this.#loaded && this.#state !== 'stale') {
        this.#o.logger.warn('the voice feed is gone from Redis; serving the last known state')
      }
      if (!this.#stopped) this.#state = this.#loaded ? 'stale' : 'starting'
      return false
    }
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
    this.#catchUp.check()
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
      this.#resyncListeners.notify([info], (error) =>
        this.#o.logger.error({ err: error }, 'voice mirror resync listener threw'),
      )
    }
    return true
  }

  // ---- the read API -------------------------------------------------------------------------------

  /** Resolves once the mirror holds a complete snapshot and has caught up with the stream. */
  ready(timeoutMs?: number): Promise<void> {
    return readyWithin(this.#readyPromise, timeoutMs, 'voice mirror')
  }

  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void {
    return this.#listeners.add(listener)
  }

  /** Called after a reload replaced the map (its differences were emitted just before). */
  onResync(listener: (info: ResyncInfo) => void): () => void {
    return this.#resyncListeners.add(listener)
  }

  /**
   * Resolves true once this node has applied every entry the stream held when it was called, so
   * that what it reads next (a browser's snapshot) includes everything another node may already
   * have published from the stream; false after `timeoutMs` (or when Redis does not answer).
   */
  async caughtUp(timeoutMs = 1_000): Promise<boolean> {
    if (this.#stopped) return false
    return this.#catchUp.wait(timeoutMs)
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

  // ---- applying -----------------------------------------------------------------------------------

  #reached(end: FeedEnd): boolean {
    return this.#loaded && this.#epoch === end.epoch && this.#feedSeq >= end.feedSeq
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
    this.#listeners.notify([event, origin], (error) =>
      this.#o.logger.error({ err: error, feedSeq: event.feedSeq }, 'voice mirror listener threw'),
    )
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

  // ---- the periodic check -------------------------------------------------------------------------

  #scheduleCheck(): void {
    if (this.#stopped) return
    this.#checkTimer = setTimeout(() => {
      void this.#check().finally(() => this.#scheduleCheck())
    }, this.#o.checkMs ?? 1_000)
    this.#checkTimer.unref()
  }

  /**
   * What the stream read cannot see: the feed's epoch (changed or gone without a new entry),
   * whether the stream still continues right after our lastId, and how far behind we are.
   */
  async #check(): Promise<void> {
    if (this.#checking || !this.#loaded || this.#stopped) return
    this.#checking = true
    try {
      const lastId = this.#lastId
      const feedSeq = this.#feedSeq
      const read = await readFeedCheck(this.#o.redis, this.#o.keys, lastId)
      if (this.#lastId !== lastId || this.#reload) return // moved on meanwhile
      if (!read.epoch) {
        // The reader keeps serving the last state (stale) and reloads once a leader rebuilt it.
        this.#needReload('epoch', 'the feed is gone from Redis')
        await this.#wakeUp('the voice feed is gone from Redis')
        return
      }
      if (read.epoch !== this.#epoch) {
        this.#needReload('epoch', `meta epoch ${read.epoch}`)
        await this.#wakeUp('the voice feed has a new epoch')
        return
      }
      if (read.next && read.next.feedSeq !== feedSeq + 1) {
        this.#needReload('gap', `the entry after ${lastId} has feedSeq ${read.next.feedSeq}`)
        await this.#wakeUp('the stream no longer continues where this node is')
        return
      }
      const behind = Math.max(0, read.feedSeq - feedSeq)
      this.#lag = {
        entries: behind,
        ms: behind > 0 && read.next ? Math.max(0, read.redisNowMs - streamIdMs(read.next.id)) : 0,
        checkedAt: Date.now(),
      }
      if (this.#state === 'stale') this.#state = 'following'
      if (read.synced && behind === 0) this.#setReady()
    } catch (error) {
      if (!this.#stopped) this.#recordError(error)
    } finally {
      this.#checking = false
    }
  }

  /** Ends the reader's XREAD at once, so that it acts on what the check found. */
  async #wakeUp(why: string): Promise<void> {
    this.#o.logger.debug({ why }, 'waking the voice mirror reader up')
    await this.#o.wake()
  }
}
