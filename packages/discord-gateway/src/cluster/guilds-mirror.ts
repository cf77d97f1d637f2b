import type { BackoffPolicy, VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { GuildChange, GuildPresence } from '../guilds/guild-voice'
import { Listeners } from '../supervision/listeners'
import { ReadyLatch } from '../supervision/ready-latch'
import { GuildAnnouncements, guildRemovedEvents, readGuildEntry } from './guild-changes'
import { allShardsSettled, readGuildRegistry } from './guild-registry'
import type { GuildMirrorStatus } from './guilds-mirror-status'
import { combineGuildStatuses } from './guilds-mirror-status'
import type { GuildKeys } from './keys'
import { guildKeys, voiceFeedKeys } from './keys'
import type { MirrorSnapshot, MirrorStatus, ResyncInfo, VoiceEventOrigin } from './mirror-contract'
import type { StreamPosition } from './stream-reader'
import { StreamReader } from './stream-reader'
import { VoiceStreamMirror } from './voice-stream-mirror'

/** Options of {@link GuildsMirror}. */
export interface GuildsMirrorOptions {
  prefix: string
  /** Commands (snapshot reads, checks, the registry). */
  redis: Redis
  /** XREAD BLOCK only; the mirror owns it (disconnects it on stop). */
  blocking: Redis
  /** @defaultValue 2_000 */
  blockMs?: number
  /** How often each guild's position is checked and the registry re-read. @defaultValue 1_000 */
  checkMs?: number
  /** Entries per stream per XREAD. @defaultValue 500 */
  count?: number
  backoff?: BackoffPolicy
  random?: () => number
  logger: Logger
}

export type { GuildMirrorStatus } from './guilds-mirror-status'

/**
 * Every node's reader of every guild: the guild list (the registry the shard leaders write), one
 * driven VoiceStreamMirror per guild, and ONE XREAD BLOCK over all guilds' streams plus the guild
 * events stream. Voice entries are applied before guild changes of the same read, so a removed
 * guild's `voice.left` (`guild_removed`) come before its `guild.removed`. A guild that appears
 * while the node runs starts empty: its members arrive as `resync` differences. The registry is
 * re-read every `checkMs`, which also catches changes whose event this node missed.
 */
export class GuildsMirror {
  readonly #o: GuildsMirrorOptions
  readonly #keys: GuildKeys
  readonly #mirrors = new Map<string, VoiceStreamMirror>()
  readonly #presence = new Map<string, GuildPresence>()
  readonly #listeners = new Listeners<[event: VoiceEvent, origin: VoiceEventOrigin]>()
  readonly #resyncListeners = new Listeners<[info: ResyncInfo]>()
  readonly #guildListeners = new Listeners<[change: GuildChange]>()
  readonly #reader: StreamReader
  /** The guild streams of the pending read, by key. */
  readonly #reading = new Map<string, VoiceStreamMirror>()
  /** Channel id → guild id. */
  readonly #channelGuild = new Map<string, string>()
  #eventsId = '0-0'
  #registryRead = false
  #lastRegistryAt = 0
  #started = false
  #stopped = false
  #errors = 0
  #lastError: { message: string; at: number } | null = null
  // Once ready, ready for good (like each guild's mirror): a Redis that lost the guild list
  // meanwhile is served from the last state.
  readonly #ready = new ReadyLatch(
    () =>
      this.#registryRead &&
      allShardsSettled(this.#settledShards, this.#shardCount) &&
      [...this.#mirrors.values()].every((m) => m.status().ready),
  )
  readonly #announced = new GuildAnnouncements()
  /** Shards whose leader reported every guild of its READY settled, by `id:count`. */
  #settledShards = new Map<string, boolean>()
  #shardCount: number | null = null

  constructor(options: GuildsMirrorOptions) {
    this.#o = options
    this.#keys = guildKeys(options.prefix)
    this.#reader = new StreamReader({
      redis: options.redis,
      blocking: options.blocking,
      blockMs: Math.min(options.blockMs ?? 2_000, options.checkMs ?? 1_000),
      count: options.count ?? 500,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.random ? { random: options.random } : {}),
      prepare: () => this.#prepareRead(),
      positions: () => this.#positions(),
      apply: (entries) => this.#apply(entries),
      onError: (error) => this.#recordError(error),
    })
  }

  /** Reads the registry and every guild's snapshot once, then follows in the background. */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    try {
      const last = (await this.#o.redis.xrevrange(this.#keys.events, '+', '-', 'COUNT', 1)) as [
        string,
        unknown,
      ][]
      this.#eventsId = last[0]?.[0] ?? '0-0'
      await this.#syncRegistry(false)
    } catch (error) {
      this.#recordError(error)
    }
    this.#reader.start()
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await this.#reader.stop()
    await Promise.all([...this.#mirrors.values()].map((m) => m.stop()))
  }

  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void {
    return this.#listeners.add(listener)
  }

  onResync(listener: (info: ResyncInfo) => void): () => void {
    return this.#resyncListeners.add(listener)
  }

  onGuild(listener: (change: GuildChange) => void): () => void {
    return this.#guildListeners.add(listener)
  }

  guilds(): GuildPresence[] {
    return [...this.#presence.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  channelMembers(channelId: string): VoiceMember[] {
    const guildId = this.#channelGuild.get(channelId)
    return guildId ? (this.#mirrors.get(guildId)?.channelMembers(channelId) ?? []) : []
  }

  memberChannel(guildId: string, userId: string): string | null {
    return this.#mirrors.get(guildId)?.memberChannel(userId) ?? null
  }

  snapshot(guildId: string): MirrorSnapshot {
    return (
      this.#mirrors.get(guildId)?.snapshot() ?? {
        guildId,
        feedSeq: 0,
        members: [],
        epoch: null,
        lastId: '0-0',
      }
    )
  }

  /**
   * True when every shard's leader reported its READY's guilds settled (created or known
   * unavailable) and this node holds a complete snapshot of every guild the registry lists.
   */
  get isReady(): boolean {
    return this.#ready.isReady
  }

  ready(timeoutMs?: number): Promise<void> {
    return this.#ready.wait(timeoutMs, 'voice mirror')
  }

  /** Every guild's mirror caught up with what its stream held when called. */
  async caughtUp(timeoutMs = 1_000): Promise<boolean> {
    const all = await Promise.all([...this.#mirrors.values()].map((m) => m.caughtUp(timeoutMs)))
    return all.every(Boolean)
  }

  /** Per guild, and all guilds together in the single-mirror shape (worst state, sums, max lag). */
  status(): { mirror: MirrorStatus; guilds: GuildMirrorStatus[] } {
    const statuses = [...this.#mirrors].map(([id, m]) => [id, m.status()] as const)
    return combineGuildStatuses({
      presences: this.guilds(),
      statuses,
      stopped: this.#stopped,
      registryRead: this.#registryRead,
      ready: this.isReady,
      errors: this.#errors,
      lastError: this.#lastError,
    })
  }

  // ---- the guild list ------------------------------------------------------------------------------

  /**
   * Re-reads the registry: adds guilds (empty when `live`), updates presences, drops the gone.
   * With `announce`, what changed without an event this node saw is announced too.
   */
  async #syncRegistry(live: boolean, announce = live): Promise<void> {
    const { presences, settledShards, shardCount } = await readGuildRegistry(
      this.#o.redis,
      this.#keys,
    )
    this.#settledShards = settledShards
    this.#shardCount = shardCount
    this.#lastRegistryAt = Date.now()
    const seen = new Set<string>()
    for (const presence of presences) {
      seen.add(presence.id)
      this.#presence.set(presence.id, presence)
      // Known when this node started: nothing to announce.
      if (!live) this.#announced.known(presence.id, presence.available)
      if (this.#mirrors.has(presence.id)) continue
      await this.#follow(presence.id, live)
      if (announce) {
        this.#emitGuild({ type: 'guild.available', guildId: presence.id, name: presence.name })
      }
    }
    // No registry at all while guilds are known: Redis lost it (a leader writes it again); the
    // guilds stay (their mirrors serve the last state as stale). Removals come as events.
    for (const guildId of presences.length === 0 ? [] : [...this.#mirrors.keys()]) {
      if (seen.has(guildId)) continue
      await this.#drop(guildId)
      if (announce) this.#emitGuild({ type: 'guild.removed', guildId })
    }
    this.#registryRead = true
    this.#ready.check()
  }

  async #follow(guildId: string, startEmpty: boolean): Promise<void> {
    const mirror = new VoiceStreamMirror({
      guildId,
      keys: voiceFeedKeys(this.#o.prefix, guildId),
      redis: this.#o.redis,
      logger: this.#o.logger.child({ guildId }),
      checkMs: this.#o.checkMs ?? 1_000,
      startEmpty,
      wake: () => this.#reader.wake(),
    })
    mirror.subscribe((event, origin) => {
      if (event.type === 'voice.joined') this.#channelGuild.set(event.channelId, guildId)
      this.#emitVoice(guildId, event, origin)
    })
    mirror.onResync((info) => {
      for (const member of info.snapshot.members) this.#channelGuild.set(member.channelId, guildId)
      this.#resyncListeners.notify([info], (error) =>
        this.#o.logger.error({ err: error, guildId }, 'voice mirror resync listener threw'),
      )
    })
    this.#mirrors.set(guildId, mirror)
    await mirror.start()
    for (const member of mirror.snapshot().members)
      this.#channelGuild.set(member.channelId, guildId)
    void mirror.ready().then(() => this.#ready.check())
  }

  /** The guild is gone: whoever is still in its voice leaves (`guild_removed`), then it is forgotten. */
  async #drop(guildId: string): Promise<void> {
    const mirror = this.#mirrors.get(guildId)
    this.#mirrors.delete(guildId)
    this.#presence.delete(guildId)
    if (!mirror) return
    const { events, origin } = guildRemovedEvents(guildId, mirror.snapshot())
    for (const event of events) this.#emitVoice(guildId, event, origin)
    for (const [channelId, owner] of this.#channelGuild) {
      if (owner === guildId) this.#channelGuild.delete(channelId)
    }
    await mirror.stop()
  }

  #emitVoice(guildId: string, event: VoiceEvent, origin: VoiceEventOrigin): void {
    this.#listeners.notify([event, origin], (error) =>
      this.#o.logger.error({ err: error, guildId }, 'voice mirror listener threw'),
    )
  }

  #emitGuild(change: GuildChange): void {
    // A change may be seen twice (its event, and the registry read before the event arrived).
    if (!this.#announced.fresh(change)) return
    this.#guildListeners.notify([change], (error) =>
      this.#o.logger.error({ err: error, change }, 'guild listener threw'),
    )
  }

  async #applyGuildEntry(raw: unknown): Promise<void> {
    const entry = readGuildEntry(raw)
    if (!entry) return
    this.#eventsId = entry.id
    const change = entry.change
    if (!change) return
    switch (change.type) {
      case 'guild.available': {
        const known = this.#presence.get(change.guildId)
        if (known)
          this.#presence.set(change.guildId, { ...known, name: change.name, available: true })
        await this.#syncRegistry(true, false)
        break
      }
      case 'guild.unavailable': {
        const known = this.#presence.get(change.guildId)
        if (known) this.#presence.set(change.guildId, { ...known, available: false })
        break
      }
      case 'guild.removed':
        await this.#drop(change.guildId)
        break
    }
    this.#emitGuild(change)
  }

  // ---- what the reader reads ----------------------------------------------------------------------

  /** Before each read: the registry when due, then the snapshots due. */
  async #prepareRead(): Promise<void> {
    if (!this.#registryRead || Date.now() - this.#lastRegistryAt > (this.#o.checkMs ?? 1_000)) {
      await this.#syncRegistry(this.#registryRead)
    }
    for (const mirror of this.#mirrors.values()) if (mirror.needsLoad()) await mirror.load()
  }

  /** Every guild's stream that can be applied now, and the guild events stream. */
  #positions(): StreamPosition[] {
    const positions: StreamPosition[] = []
    this.#reading.clear()
    for (const mirror of this.#mirrors.values()) {
      const position = mirror.position()
      if (!position) continue
      positions.push(position)
      this.#reading.set(position.key, mirror)
    }
    positions.push({ key: this.#keys.events, id: this.#eventsId })
    return positions
  }

  /** Voice entries first, then guild changes (a removed guild's members leave before it goes). */
  async #apply(entries: Map<string, unknown[]>): Promise<void> {
    for (const [key, mirror] of this.#reading) {
      const read = entries.get(key)
      if (read && read.length > 0) mirror.applyEntries(read)
    }
    for (const raw of entries.get(this.#keys.events) ?? []) await this.#applyGuildEntry(raw)
    this.#ready.check()
  }

  #recordError(error: unknown): void {
    this.#errors++
    const message = error instanceof Error ? error.message : String(error)
    this.#lastError = { message, at: Date.now() }
    this.#o.logger.warn({ err: error }, 'guilds mirror: Redis failed; retrying')
  }
}
