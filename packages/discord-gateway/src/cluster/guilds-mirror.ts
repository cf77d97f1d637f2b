import type { BackoffPolicy, VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { backoffDelay, PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { z } from 'zod'
import { GatewayError } from '../errors'
import type { GuildChange, GuildPresence } from '../guilds/guild-voice'
import { sleep } from '../supervision/backoff'
import type { VoiceSnapshot } from '../voice/voice-mirror'
import { pairsToObject } from './feed-codec'
import { READ_GUILDS } from './feed-scripts'
import type { GuildKeys } from './keys'
import { guildKeys, voiceFeedKeys } from './keys'
import { parseRegistry } from './leader-state'
import type {
  MirrorSnapshot,
  MirrorState,
  MirrorStatus,
  ResyncInfo,
  VoiceEventOrigin,
} from './voice-stream-mirror'
import { MIRROR_BACKOFF, VoiceStreamMirror } from './voice-stream-mirror'

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

const ChangeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('guild.available'), guildId: z.string(), name: z.string() }),
  z.object({ type: z.literal('guild.unavailable'), guildId: z.string() }),
  z.object({ type: z.literal('guild.removed'), guildId: z.string() }),
])

/** One guild as this node follows it. */
export interface GuildMirrorStatus extends GuildPresence {
  state: MirrorState
  ready: boolean
  feedSeq: number
  members: number
  lag: { entries: number; ms: number }
}

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
  readonly #listeners = new Set<(event: VoiceEvent, origin: VoiceEventOrigin) => void>()
  readonly #resyncListeners = new Set<(info: ResyncInfo) => void>()
  readonly #guildListeners = new Set<(change: GuildChange) => void>()
  readonly #stop = new AbortController()
  /** Channel id → guild id. */
  readonly #channelGuild = new Map<string, string>()
  #eventsId = '0-0'
  #registryRead = false
  #lastRegistryAt = 0
  #blockingId: number | null = null
  #loop: Promise<void> | null = null
  #stopped = false
  #errors = 0
  #lastError: { message: string; at: number } | null = null
  #readyWaiters = new Set<() => void>()
  /** What was last announced per guild (a change seen twice is announced once). */
  readonly #announced = new Map<string, 'available' | 'unavailable' | 'removed'>()
  /** Shards whose leader reported every guild of its READY settled, by `id:count`. */
  #settledShards = new Map<string, boolean>()
  #shardCount: number | null = null

  constructor(options: GuildsMirrorOptions) {
    this.#o = options
    this.#keys = guildKeys(options.prefix)
  }

  /** Reads the registry and every guild's snapshot once, then follows in the background. */
  async start(): Promise<void> {
    if (this.#loop) return
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
    this.#loop = this.#run()
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#stop.abort()
    this.#o.blocking.disconnect()
    await Promise.all([...this.#mirrors.values()].map((m) => m.stop()))
    await this.#loop
  }

  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  onResync(listener: (info: ResyncInfo) => void): () => void {
    this.#resyncListeners.add(listener)
    return () => {
      this.#resyncListeners.delete(listener)
    }
  }

  onGuild(listener: (change: GuildChange) => void): () => void {
    this.#guildListeners.add(listener)
    return () => {
      this.#guildListeners.delete(listener)
    }
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
    const count = this.#shardCount
    return (
      this.#registryRead &&
      count !== null &&
      Array.from({ length: count }, (_, id) => this.#settledShards.get(`${id}:${count}`)).every(
        Boolean,
      ) &&
      [...this.#mirrors.values()].every((m) => m.status().ready)
    )
  }

  ready(timeoutMs?: number): Promise<void> {
    const wait = new Promise<void>((resolve) => {
      if (this.isReady) resolve()
      else this.#readyWaiters.add(resolve)
    })
    if (timeoutMs === undefined) return wait
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new GatewayError('READY_TIMEOUT', `voice mirror not ready after ${timeoutMs} ms`)),
        timeoutMs,
      )
      void wait.then(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Every guild's mirror caught up with what its stream held when called. */
  async caughtUp(timeoutMs = 1_000): Promise<boolean> {
    const all = await Promise.all([...this.#mirrors.values()].map((m) => m.caughtUp(timeoutMs)))
    return all.every(Boolean)
  }

  /** Per guild, and all guilds together in the single-mirror shape (worst state, sums, max lag). */
  status(): { mirror: MirrorStatus; guilds: GuildMirrorStatus[] } {
    const statuses = [...this.#mirrors].map(([id, m]) => [id, m.status()] as const)
    const guilds: GuildMirrorStatus[] = this.guilds().map((presence) => {
      const s = statuses.find(([id]) => id === presence.id)?.[1]
      return {
        ...presence,
        state: s?.state ?? 'starting',
        ready: s?.ready ?? false,
        feedSeq: s?.feedSeq ?? 0,
        members: s?.members ?? 0,
        lag: { entries: s?.lag.entries ?? 0, ms: s?.lag.ms ?? 0 },
      }
    })
    const all = statuses.map(([, s]) => s)
    const order: MirrorState[] = ['stopped', 'stale', 'starting', 'following']
    const state: MirrorState = this.#stopped
      ? 'stopped'
      : !this.#registryRead || all.length === 0
        ? 'starting'
        : all.reduce<MirrorState>(
            (worst, s) => (order.indexOf(s.state) < order.indexOf(worst) ? s.state : worst),
            'following',
          )
    const lastErrors = [this.#lastError, ...all.map((s) => s.lastError)].filter(
      (e): e is { message: string; at: number } => e !== null,
    )
    const first = all.length === 1 ? all[0] : undefined
    const mirror: MirrorStatus = {
      state,
      epoch: first?.epoch ?? null,
      lastId: first?.lastId ?? '0-0',
      feedSeq: all.reduce((n, s) => n + s.feedSeq, 0),
      ready: this.isReady,
      members: all.reduce((n, s) => n + s.members, 0),
      lag: {
        entries: all.reduce((n, s) => n + s.lag.entries, 0),
        ms: all.reduce((n, s) => Math.max(n, s.lag.ms), 0),
        checkedAt: all.reduce<number | null>(
          (n, s) =>
            s.lag.checkedAt !== null && (n === null || s.lag.checkedAt > n) ? s.lag.checkedAt : n,
          null,
        ),
      },
      resyncs: all.reduce((n, s) => n + s.resyncs, 0),
      lastResync: all.reduce<MirrorStatus['lastResync']>(
        (n, s) => (s.lastResync && (!n || s.lastResync.at > n.at) ? s.lastResync : n),
        null,
      ),
      invalid: all.reduce((n, s) => n + s.invalid, 0),
      errors: this.#errors + all.reduce((n, s) => n + s.errors, 0),
      lastError: lastErrors.reduce<MirrorStatus['lastError']>(
        (n, e) => (!n || e.at > n.at ? e : n),
        null,
      ),
    }
    return { mirror, guilds }
  }

  // ---- the guild list ------------------------------------------------------------------------------

  /**
   * Re-reads the registry: adds guilds (empty when `live`), updates presences, drops the gone.
   * With `announce`, what changed without an event this node saw is announced too.
   */
  async #syncRegistry(live: boolean, announce = live): Promise<void> {
    const [registry, shards, count] = (await READ_GUILDS.run(
      this.#o.redis,
      [this.#keys.registry, this.#keys.shards, this.#keys.shardCount],
      [],
    )) as [unknown, unknown, unknown]
    const presences = parseRegistry(registry)
    this.#settledShards = new Map(
      Object.entries(pairsToObject(shards)).map(([shard, settled]) => [shard, settled === '1']),
    )
    const n = Number(count)
    this.#shardCount = Number.isSafeInteger(n) && n > 0 ? n : null
    this.#lastRegistryAt = Date.now()
    const seen = new Set<string>()
    for (const presence of presences) {
      seen.add(presence.id)
      this.#presence.set(presence.id, presence)
      // Known when this node started: nothing to announce.
      if (!live) this.#announced.set(presence.id, presence.available ? 'available' : 'unavailable')
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
    this.#checkReady()
  }

  async #follow(guildId: string, startEmpty: boolean): Promise<void> {
    const mirror = new VoiceStreamMirror({
      guildId,
      keys: voiceFeedKeys(this.#o.prefix, guildId),
      redis: this.#o.redis,
      logger: this.#o.logger.child({ guildId }),
      checkMs: this.#o.checkMs ?? 1_000,
      startEmpty,
      wake: () => this.#wake(),
    })
    mirror.subscribe((event, origin) => {
      if (event.type === 'voice.joined') this.#channelGuild.set(event.channelId, guildId)
      for (const listener of this.#listeners) {
        try {
          listener(event, origin)
        } catch (error) {
          this.#o.logger.error({ err: error, guildId }, 'voice mirror listener threw')
        }
      }
    })
    mirror.onResync((info) => {
      for (const member of info.snapshot.members) this.#channelGuild.set(member.channelId, guildId)
      for (const listener of this.#resyncListeners) {
        try {
          listener(info)
        } catch (error) {
          this.#o.logger.error({ err: error, guildId }, 'voice mirror resync listener threw')
        }
      }
    })
    this.#mirrors.set(guildId, mirror)
    await mirror.start()
    for (const member of mirror.snapshot().members)
      this.#channelGuild.set(member.channelId, guildId)
    void mirror.ready().then(() => this.#checkReady())
  }

  /** The guild is gone: whoever is still in its voice leaves (`guild_removed`), then it is forgotten. */
  async #drop(guildId: string): Promise<void> {
    const mirror = this.#mirrors.get(guildId)
    this.#mirrors.delete(guildId)
    this.#presence.delete(guildId)
    if (!mirror) return
    const snapshot: VoiceSnapshot = mirror.snapshot()
    let feedSeq = snapshot.feedSeq
    const origin: VoiceEventOrigin = {
      kind: 'resync',
      epoch: mirror.snapshot().epoch ?? '',
      id: mirror.snapshot().lastId,
    }
    for (const member of snapshot.members) {
      const event: VoiceEvent = {
        v: PROTOCOL_VERSION,
        type: 'voice.left',
        guildId,
        channelId: member.channelId,
        userId: member.userId,
        feedSeq: ++feedSeq,
        receivedAt: Date.now(),
        reason: 'guild_removed',
      }
      for (const listener of this.#listeners) {
        try {
          listener(event, origin)
        } catch (error) {
          this.#o.logger.error({ err: error, guildId }, 'voice mirror listener threw')
        }
      }
    }
    for (const [channelId, owner] of this.#channelGuild) {
      if (owner === guildId) this.#channelGuild.delete(channelId)
    }
    await mirror.stop()
  }

  #emitGuild(change: GuildChange): void {
    // A change may be seen twice (its event, and the registry read before the event arrived).
    const now =
      change.type === 'guild.available'
        ? 'available'
        : change.type === 'guild.unavailable'
          ? 'unavailable'
          : 'removed'
    if (this.#announced.get(change.guildId) === now) return
    this.#announced.set(change.guildId, now)
    if (this.#announced.size > 10_000) {
      const oldest = this.#announced.keys().next().value
      if (oldest !== undefined && oldest !== change.guildId) this.#announced.delete(oldest)
    }
    for (const listener of this.#guildListeners) {
      try {
        listener(change)
      } catch (error) {
        this.#o.logger.error({ err: error, change }, 'guild listener threw')
      }
    }
  }

  async #applyGuildEntry(raw: unknown): Promise<void> {
    if (!Array.isArray(raw) || typeof raw[0] !== 'string') return
    this.#eventsId = raw[0]
    const fields = pairsToObject(raw[1])
    let change: GuildChange
    try {
      const parsed = ChangeSchema.safeParse(JSON.parse(fields.change ?? ''))
      if (!parsed.success) return
      change = parsed.data
    } catch {
      return
    }
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

  // ---- the reading loop -----------------------------------------------------------------------

  async #run(): Promise<void> {
    const blockMs = this.#o.blockMs ?? 2_000
    let failures = 0
    while (!this.#stopped) {
      try {
        if (!this.#registryRead || Date.now() - this.#lastRegistryAt > (this.#o.checkMs ?? 1_000)) {
          await this.#syncRegistry(this.#registryRead)
        }
        for (const mirror of this.#mirrors.values()) if (mirror.needsLoad()) await mirror.load()
        const positions = [...this.#mirrors]
          .map(([guildId, m]) => [guildId, m.position()] as const)
          .filter((p): p is readonly [string, { key: string; id: string }] => p[1] !== null)
        const keys = [...positions.map(([, p]) => p.key), this.#keys.events]
        const ids = [...positions.map(([, p]) => p.id), this.#eventsId]
        this.#blockingId ??= Number(await this.#o.blocking.client('ID'))
        const reply = (await this.#o.blocking.xread(
          'COUNT',
          this.#o.count ?? 500,
          'BLOCK',
          Math.min(blockMs, this.#o.checkMs ?? 1_000),
          'STREAMS',
          ...keys,
          ...ids,
        )) as [string, unknown[]][] | null
        failures = 0
        if (!reply) continue
        const byKey = new Map(reply)
        for (const [guildId, p] of positions) {
          const entries = byKey.get(p.key)
          if (entries && entries.length > 0) this.#mirrors.get(guildId)?.applyEntries(entries)
        }
        for (const raw of byKey.get(this.#keys.events) ?? []) await this.#applyGuildEntry(raw)
        this.#checkReady()
      } catch (error) {
        if (this.#stopped) break
        this.#blockingId = null
        failures++
        this.#recordError(error)
        try {
          await sleep(
            backoffDelay(
              failures,
              this.#o.backoff ?? MIRROR_BACKOFF,
              (this.#o.random ?? Math.random)(),
            ),
            this.#stop.signal,
          )
        } catch {
          break
        }
      }
    }
  }

  async #wake(): Promise<void> {
    if (this.#blockingId === null) return
    await this.#o.redis.client('UNBLOCK', this.#blockingId)
  }

  #checkReady(): void {
    if (!this.isReady) return
    for (const resolve of this.#readyWaiters) resolve()
    this.#readyWaiters.clear()
  }

  #recordError(error: unknown): void {
    this.#errors++
    const message = error instanceof Error ? error.message : String(error)
    this.#lastError = { message, at: Date.now() }
    this.#o.logger.warn({ err: error }, 'guilds mirror: Redis failed; retrying')
  }
}
