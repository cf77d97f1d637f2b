import { randomBytes } from 'node:crypto'
import { setImmediate as nextTurn } from 'node:timers/promises'
import {
  type ConnectVoiceResult,
  MAX_PLAYERS,
  type Player,
  ROOM_CLOSING_WARNING_MS,
  ROOM_IDLE_MS,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { Clock } from '../../server/clock'
import type {
  Actor,
  RoomAccess,
  RoomDirectory,
  RoomEvents,
  SessionUser,
  VoicePresence,
} from '../../server/ports'
import type { DiscordRoomsPort } from './discord-rooms.server'
import type { InviteTokens } from './invite-token.server'
import { KeyedMutex } from './keyed-mutex'
import {
  activityDue,
  DEFAULT_TIMING,
  type LifecycleEvent,
  type LifecycleTiming,
  type LifecycleTransition,
  nextDeadline,
  roomState,
  transition,
} from './room-lifecycle'
import type { InsertResult, RoomRecord, RoomStore } from './room-store'
import { removePlayer, takeSeat } from './seat-rules'

/** Dependencies and options of {@link RoomService}. */
/** Open rooms one user may host at once, unless configured otherwise. */
export const MAX_ROOMS_PER_OWNER = 3

/**
 * Rooms a cleanup pass looks at, and activity writes it starts, between turns of the event loop.
 * One synchronous pass over 2,500 busy rooms, then their 2,500 touches, held the loop for
 * ~25 ms and more (a CPU profile of the 10,000-socket benchmark), and every voice event
 * arriving meanwhile waited for it.
 */
export const SWEEP_BATCH = 256

export interface RoomServiceOptions {
  store: RoomStore
  discord: DiscordRoomsPort
  voice: VoicePresence
  events: RoomEvents
  invites: InviteTokens
  clock: Clock
  logger: Logger
  /** `PUBLIC_URL`, for invite links. */
  publicUrl: string
  /** `DISCORD_WEB_URL`, for voice channel links. */
  discordWebUrl: string
  /** Open rooms one user may host at once. @defaultValue 3 */
  maxRoomsPerOwner?: number
  /** Room channels per category (Discord allows 50). @defaultValue 50 */
  channelsPerCategory?: number
  /** Channels in the guild, ours and others (Discord allows 500). @defaultValue 500 */
  guildChannelLimit?: number
  /** Name prefix of the categories we create (they are also tracked by id). @defaultValue 'Table Voice rooms' */
  categoryPrefix?: string
  idleMs?: number
  warningMs?: number
  /**
   * Whether voice presence is known (the gateway feed is ready). While it is
   * not, every room counts as active: we never close a room on missing data.
   * @defaultValue () => true
   */
  voiceReady?: () => boolean
  /**
   * Whether this process leads the cleanup (several nodes on one store: see LeaderLease).
   * Every node marks the rooms it sees active; only the leader warns, closes and
   * reconciles. @defaultValue () => true (a single node)
   */
  isLeader?: () => boolean
  /**
   * Reconciliation spares channels in our categories younger than this (by their
   * snowflake time), so a room another node is creating right now is not taken
   * for an orphan. @defaultValue 0 (one node serialises creation and reconciliation)
   */
  orphanGraceMs?: number
  /**
   * Voice activity is written to the store in batches, at most this long after it happened
   * (a closing room is reopened at once). @defaultValue 5_000
   */
  activityFlushMs?: number
}

const IDLE_TICK: LifecycleEvent = { type: 'idleTick' }
const ACTIVITY_SEEN: LifecycleEvent = { type: 'activitySeen' }

/** A lifecycle transition as the store applied it, with the room before it. */
type AppliedTransition = LifecycleTransition & { before: RoomRecord | null }

/** Result of a reconciliation with Discord. */
export interface ReconcileReport {
  deletedChannels: string[]
  closedRooms: string[]
}

/**
 * Rooms: the business logic behind the room server functions, framework-free.
 * Each room owns one private Discord voice channel. Operations are authorised
 * from the `Actor` (built from the session), serialised per user, and the
 * four-seat limit is enforced by an atomic store mutation.
 */
export class RoomService implements RoomDirectory {
  readonly #o: Required<Omit<RoomServiceOptions, 'logger'>> & { logger: Logger }
  readonly #mutex = new KeyedMutex()
  readonly #timing: LifecycleTiming
  /** Open rooms by id, mirrored from the store for the synchronous RoomDirectory lookups. */
  readonly #cache = new Map<string, RoomRecord>()
  readonly #byChannel = new Map<string, string>()
  /** Bumped on every cache write, so a slow full reload never overwrites a newer entry. */
  readonly #cacheVersion = new Map<string, number>()
  #cacheClock = 0
  /** Per room: a reload from the store is running (true: another is wanted after it). */
  readonly #reloading = new Map<string, boolean>()
  #unsubscribeVoice: (() => void) | null = null
  #unwatchStore: (() => void) | null = null
  /** Rooms with voice activity not yet written to the store, and the timer that writes them. */
  readonly #pendingActivity = new Set<string>()
  #activityTimer: unknown = null

  constructor(options: RoomServiceOptions) {
    this.#o = {
      maxRoomsPerOwner: MAX_ROOMS_PER_OWNER,
      channelsPerCategory: 50,
      guildChannelLimit: 500,
      categoryPrefix: 'Table Voice rooms',
      idleMs: ROOM_IDLE_MS,
      warningMs: ROOM_CLOSING_WARNING_MS,
      voiceReady: () => true,
      isLeader: () => true,
      orphanGraceMs: 0,
      activityFlushMs: 5_000,
      ...options,
    }
    this.#timing = {
      ...DEFAULT_TIMING,
      idleMs: this.#o.idleMs,
      warningMs: this.#o.warningMs,
    }
  }

  // ---------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------

  /**
   * Loads the rooms into memory and starts watching voice activity and, with a
   * shared store, the changes other nodes make (so the synchronous RoomDirectory
   * lookups stay current on every node).
   */
  async start(): Promise<void> {
    if (this.#o.store.watch && !this.#unwatchStore) {
      this.#unwatchStore = this.#o.store.watch((roomId) => {
        if (roomId === null) void this.refreshCache()
        else this.#reloadRoom(roomId)
      })
    }
    for (const room of await this.#o.store.list()) this.#remember(room)
    this.#unsubscribeVoice ??= this.#o.voice.subscribe((event) => {
      const roomId = this.#byChannel.get(event.channelId)
      if (roomId) this.#noteActivity(roomId)
    })
  }

  stop(): void {
    this.#unsubscribeVoice?.()
    this.#unsubscribeVoice = null
    if (this.#activityTimer !== null) this.#o.clock.clearTimeout(this.#activityTimer)
    this.#activityTimer = null
    this.#unwatchStore?.()
    this.#unwatchStore = null
  }

  /**
   * Reloads every room from the store into the cache (the safety net behind change
   * notifications: run on each sweep when the store is shared). Entries written
   * locally while the list was read are kept.
   */
  async refreshCache(): Promise<void> {
    const startedAt = this.#cacheClock
    let rooms: RoomRecord[]
    try {
      rooms = await this.#o.store.list()
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'room cache refresh failed')
      return
    }
    const fresh = (id: string) => (this.#cacheVersion.get(id) ?? 0) <= startedAt
    const seen = new Set<string>()
    for (const room of rooms) {
      seen.add(room.id)
      if (fresh(room.id)) this.#remember(room)
    }
    for (const id of [...this.#cache.keys()]) {
      if (!seen.has(id) && fresh(id)) this.#forget(id)
    }
    // Versions of forgotten rooms are only needed while a refresh that began earlier runs.
    for (const [id, version] of this.#cacheVersion) {
      if (!this.#cache.has(id) && version <= startedAt) this.#cacheVersion.delete(id)
    }
  }

  /** Re-reads one room after a change notification; reloads of a room never overlap. */
  #reloadRoom(roomId: string): void {
    if (this.#reloading.has(roomId)) {
      this.#reloading.set(roomId, true)
      return
    }
    this.#reloading.set(roomId, false)
    void (async () => {
      for (;;) {
        try {
          const room = await this.#o.store.get(roomId)
          if (room) this.#remember(room)
          else this.#forget(roomId)
        } catch (error) {
          this.#o.logger.warn({ err: error, roomId }, 'room reload failed')
        }
        if (this.#reloading.get(roomId) !== true) break
        this.#reloading.set(roomId, false)
      }
      this.#reloading.delete(roomId)
    })()
  }

  // ---------------------------------------------------------------------------
  // RoomDirectory (for the presence layer)
  // ---------------------------------------------------------------------------

  roomForChannel(channelId: string): string | null {
    return this.#byChannel.get(channelId) ?? null
  }

  roomAccess(roomId: string, userId: string): RoomAccess | null {
    const room = this.#cache.get(roomId)
    if (!room?.players.some((p) => p.userId === userId)) return null
    return { channelId: room.channelId, state: roomState(room) }
  }

  // ---------------------------------------------------------------------------
  // Operations
  // ---------------------------------------------------------------------------

  /** Creates a room owned by the actor, with its private voice channel. */
  createRoom(actor: Actor, name: string): Promise<RoomView> {
    return this.#mutex.run(`user:${actor.userId}`, async () => {
      // Each room is a Discord channel, and a guild holds 500: one account must not take them all.
      // This count (the cache) spares Discord calls; the store's insert decides, across nodes.
      const hosted = [...this.#cache.values()].filter((r) => r.ownerId === actor.userId).length
      if (hosted >= this.#o.maxRoomsPerOwner) {
        throw new AppError('TOO_MANY_ROOMS')
      }
      await this.#o.discord.addGuildMember(actor.userId, actor.accessToken)
      const id = randomBytes(12).toString('base64url')
      // Channel creation and the store insert happen under the guild-wide key that
      // reconcile() also takes, so it never sees our channel without its room (or the
      // room without its channel) and deletes the wrong thing.
      const room = await this.#mutex.run('guild:channels', async () => {
        const categoryId = await this.#pickCategory()
        const channelId = await this.#o.discord.createRoomChannel({
          name: channelName(name),
          parentId: categoryId,
          ownerId: actor.userId,
        })
        const now = this.#o.clock.now()
        const invite = await this.#o.invites.sign(id, 1)
        const record: RoomRecord = {
          id,
          name,
          guildId: this.#o.discord.guildId,
          channelId,
          categoryId,
          ownerId: actor.userId,
          players: [toPlayer(actor, now)],
          status: 'open',
          createdAt: now,
          closesAt: null,
          inviteVersion: 1,
          inviteToken: invite.token,
          inviteExpiresAt: invite.expiresAt,
          lastActivityAt: now,
        }
        let inserted: InsertResult
        try {
          inserted = await this.#o.store.insert(record, {
            maxRoomsPerOwner: this.#o.maxRoomsPerOwner,
          })
        } catch (error) {
          await this.#o.discord.deleteChannel(channelId).catch(() => undefined)
          throw error
        }
        if (inserted === 'owner_cap') {
          // Another node created the owner's last allowed room meanwhile.
          await this.#o.discord.deleteChannel(channelId).catch(() => undefined)
          throw new AppError('TOO_MANY_ROOMS')
        }
        return record
      })
      const { channelId } = room
      this.#remember(room)
      this.#o.logger.info({ roomId: id, channelId, ownerId: actor.userId }, 'room created')
      return this.#view(room)
    })
  }

  /** The room as one of its players sees it. */
  async getRoom(actor: SessionUser, roomId: string): Promise<RoomView> {
    const room = await this.#requirePlayer(actor, roomId)
    return this.#view(await this.#refreshInviteIfExpired(room))
  }

  /** Public facts about a room an invite points to (name, seats), after checking the link. */
  async previewInvite(
    roomId: string,
    token: string,
  ): Promise<{ roomId: string; name: string; players: number; maxPlayers: number }> {
    const room = await this.#checkInvite(roomId, token)
    return { roomId, name: room.name, players: room.players.length, maxPlayers: MAX_PLAYERS }
  }

  /**
   * Joins a room with an invite link: takes a seat atomically (ROOM_FULL when
   * four are taken; a current player is a no-op), adds the user to the guild,
   * grants channel access, then tries to connect their voice.
   */
  joinRoom(
    actor: Actor,
    roomId: string,
    token: string,
  ): Promise<{ room: RoomView; voice: ConnectVoiceResult }> {
    return this.#mutex.run(`user:${actor.userId}`, async () => {
      await this.#checkInvite(roomId, token)
      const now = this.#o.clock.now()
      const outcome = await this.#o.store.mutate(roomId, takeSeat(toPlayer(actor, now)))
      if (outcome === 'missing') throw new AppError('ROOM_NOT_FOUND')
      if (outcome === 'full') throw new AppError('ROOM_FULL')
      const room = await this.#reload(roomId)
      if (outcome === 'added') {
        try {
          await this.#o.discord.addGuildMember(actor.userId, actor.accessToken)
          await this.#o.discord.allowMember(room.channelId, actor.userId)
        } catch (error) {
          await this.#removePlayer(roomId, actor.userId)
          throw error
        }
        this.#publishState(room)
        this.#o.logger.info({ roomId, userId: actor.userId }, 'player joined')
      }
      const voice = await this.#connect(actor.userId, room)
      return { room: this.#view(await this.#reload(roomId)), voice }
    })
  }

  /** Leaves a room. The owner leaving hands the room to the longest-seated player, or closes it when alone. */
  leaveRoom(actor: SessionUser, roomId: string): Promise<void> {
    return this.#mutex.run(`user:${actor.userId}`, async () => {
      const room = await this.#requirePlayer(actor, roomId)
      if (room.players.length === 1) {
        await this.closeRoomInternal(roomId, 'closed')
        return
      }
      await this.#removePlayer(roomId, actor.userId)
      await this.#evict(room, actor.userId)
      this.#o.logger.info({ roomId, userId: actor.userId }, 'player left')
    })
  }

  /** Closes a room now (owner only). */
  async closeRoom(actor: SessionUser, roomId: string): Promise<void> {
    const room = await this.#requirePlayer(actor, roomId)
    if (room.ownerId !== actor.userId) throw new AppError('FORBIDDEN')
    await this.closeRoomInternal(roomId, 'closed')
  }

  /** Removes a player (owner only): their seat, their channel access and their voice connection. */
  kickPlayer(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#mutex.run(`user:${userId}`, async () => {
      const room = await this.#requirePlayer(actor, roomId)
      if (room.ownerId !== actor.userId) throw new AppError('FORBIDDEN')
      if (userId === actor.userId) throw new AppError('INVALID_INPUT')
      if (!room.players.some((p) => p.userId === userId)) throw new AppError('INVALID_INPUT')
      await this.#removePlayer(roomId, userId)
      await this.#evict(room, userId)
      // The kicked player still holds the invite link: a new one keeps them out.
      const next = await this.#issueNewInvite(roomId)
      this.#o.logger.info({ roomId, userId, by: actor.userId }, 'player kicked')
      return this.#view(next)
    })
  }

  /** Issues a new invite link; earlier links stop working (owner only). */
  async rotateInvite(actor: SessionUser, roomId: string): Promise<RoomView> {
    const room = await this.#requirePlayer(actor, roomId)
    if (room.ownerId !== actor.userId) throw new AppError('FORBIDDEN')
    return this.#view(await this.#issueNewInvite(roomId))
  }

  /** Bumps the room's invite version and stores a link signed for exactly that version. */
  async #issueNewInvite(roomId: string): Promise<RoomRecord> {
    for (;;) {
      const current = await this.#o.store.get(roomId)
      if (!current) throw new AppError('ROOM_NOT_FOUND')
      const version = current.inviteVersion + 1
      const invite = await this.#o.invites.sign(roomId, version)
      // Another rotation may have won meanwhile: then sign again for the newer version.
      const next = await this.#o.store.mutate(roomId, (latest) => {
        if (!latest || latest.inviteVersion !== current.inviteVersion) return { result: latest }
        const updated = {
          ...latest,
          inviteVersion: version,
          inviteToken: invite.token,
          inviteExpiresAt: invite.expiresAt,
        }
        return { next: updated, result: updated }
      })
      if (!next) throw new AppError('ROOM_NOT_FOUND')
      if (next.inviteVersion === version && next.inviteToken === invite.token) {
        this.#remember(next)
        return next
      }
    }
  }

  /**
   * Puts the actor in the room's voice channel if Discord allows: moved when
   * they are in another voice channel of the guild, otherwise not_in_voice with
   * the link to open the channel in Discord.
   */
  connectVoice(actor: SessionUser, roomId: string): Promise<ConnectVoiceResult> {
    return this.#mutex.run(`user:${actor.userId}`, async () => {
      const room = await this.#requirePlayer(actor, roomId)
      return this.#connect(actor.userId, room)
    })
  }

  /** The open rooms the actor plays in, newest first. */
  async listMyRooms(actor: SessionUser): Promise<RoomView[]> {
    const rooms = await this.#o.store.list()
    return rooms
      .filter((room) => room.players.some((p) => p.userId === actor.userId))
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((room) => this.#view(room))
  }

  // ---------------------------------------------------------------------------
  // Closing, cleanup and reconciliation
  // ---------------------------------------------------------------------------

  /**
   * Closes a room: removes it from the store, deletes its channel (unless it is gone) and
   * publishes room.deleted. Idempotent: closing an unknown or closed room does nothing.
   * @returns whether this call closed the room
   */
  async closeRoomInternal(roomId: string, reason: 'closed' | 'channel_gone'): Promise<boolean> {
    const applied = await this.#apply(roomId, {
      type: reason === 'closed' ? 'closeRequested' : 'channelGone',
    })
    return applied.before !== null && applied.room === null
  }

  /**
   * Runs a lifecycle event on the stored room atomically (decided on the store's latest copy),
   * keeps the cache in step, then performs the effects in order.
   */
  async #apply(roomId: string, event: LifecycleEvent): Promise<AppliedTransition> {
    const now = this.#o.clock.now()
    const applied = await this.#o.store.mutate(roomId, (before) => {
      const result = transition(before, event, now, this.#timing)
      const persist = result.effects.some((effect) => effect.type === 'persist')
      return { next: persist ? result.room : undefined, result: { before, ...result } }
    })
    if (applied.room) this.#remember(applied.room)
    else this.#forget(roomId)
    for (const effect of applied.effects) {
      if (effect.type === 'deleteChannel') await this.#o.discord.deleteChannel(effect.channelId)
      else if (effect.type === 'publish') {
        this.#o.events.publish(roomId, effect.frame)
        if (effect.frame.type === 'room.deleted') {
          const { reason } = effect.frame
          const channelId = applied.before?.channelId
          this.#o.logger.info({ roomId, channelId, reason }, 'room closed')
        }
      }
    }
    return applied
  }

  /**
   * One cleanup pass. A room is active while someone is in its voice channel or
   * viewing its page. After idleMs - warningMs of inactivity its players are
   * warned (room.closing); after idleMs it is closed. Activity during the warning
   * cancels it (room.updated).
   */
  async sweep(): Promise<{ warned: string[]; closed: string[]; reopened: string[] }> {
    if (this.#o.store.watch) await this.refreshCache()
    const now = this.#o.clock.now()
    const leader = this.#o.isLeader()
    // Once per pass: the gateway feed answers with a copy of its whole status.
    const voiceReady = this.#o.voiceReady()
    const report = { warned: [] as string[], closed: [] as string[], reopened: [] as string[] }
    const active: string[] = []
    const ids = [...this.#cache.keys()]
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && i % SWEEP_BATCH === 0) await nextTurn()
      // The record as it is now: it may have changed or gone during a turn.
      const room = this.#cache.get(ids[i] ?? '')
      if (!room) continue
      try {
        // Every node records the activity it sees (its viewers, its voice mirror) in the
        // store; only the leader acts on inactivity, reading that shared truth.
        if (this.#isActive(room, leader, voiceReady)) {
          if (room.status === 'closing') report.reopened.push(room.id)
          active.push(room.id)
          continue
        }
        // Only the leader acts on inactivity, and only when the cached copy says it is due;
        // the store's latest copy decides.
        if (!leader || transition(room, IDLE_TICK, now, this.#timing).effects.length === 0) continue
        const { before, room: after } = await this.#apply(room.id, IDLE_TICK)
        if (before && !after) report.closed.push(room.id)
        else if (before?.status === 'open' && after?.status === 'closing')
          report.warned.push(room.id)
      } catch (error) {
        this.#o.logger.warn({ err: error, roomId: room.id }, 'sweep failed for room')
      }
    }
    // Together, so a file store writes its file once for all of them, not once per room.
    await this.#touchAll(active)
    return report
  }

  /** When the next sweep has something to do (a warning or a closing), epoch ms; null if no rooms. */
  nextDeadline(): number | null {
    if (!this.#o.isLeader()) return null
    let next: number | null = null
    for (const room of this.#cache.values()) {
      const at = nextDeadline(room, this.#timing)
      next = next === null ? at : Math.min(next, at)
    }
    return next
  }

  /**
   * Brings the store and Discord back in line after downtime: deletes voice
   * channels in our categories that belong to no room, closes rooms whose
   * channel is gone, forgets categories that no longer exist. Only channels
   * under categories we created (stored id and our name prefix) are touched.
   */
  reconcile(): Promise<ReconcileReport> {
    if (!this.#o.isLeader()) return Promise.resolve({ deletedChannels: [], closedRooms: [] })
    return this.#mutex.run('guild:channels', () => this.#reconcile())
  }

  async #reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { deletedChannels: [], closedRooms: [] }
    const channels = await this.#o.discord.listChannels()
    const byId = new Map(channels.map((c) => [c.id, c]))
    const stored = new Set(await this.#o.store.listCategories())
    const ours = new Set<string>()
    for (const id of stored) {
      const category = byId.get(id)
      if (!category) await this.#o.store.removeCategory(id)
      else if (category.name.startsWith(this.#o.categoryPrefix)) ours.add(id)
    }
    const rooms = await this.#o.store.list()
    const roomChannels = new Set(rooms.map((r) => r.channelId))
    for (const room of rooms) {
      if (!byId.has(room.channelId) && (await this.closeRoomInternal(room.id, 'channel_gone'))) {
        report.closedRooms.push(room.id)
      }
    }
    const youngerThan = this.#o.clock.now() - this.#o.orphanGraceMs
    for (const channel of channels) {
      // Another node may have created it and not stored its room yet.
      if (this.#o.orphanGraceMs > 0 && snowflakeTime(channel.id) > youngerThan) continue
      if (channel.parentId && ours.has(channel.parentId) && !roomChannels.has(channel.id)) {
        await this.#o.discord.deleteChannel(channel.id)
        report.deletedChannels.push(channel.id)
      }
    }
    if (report.deletedChannels.length || report.closedRooms.length) {
      this.#o.logger.info(report, 'reconciled rooms with discord')
    }
    return report
  }

  /** Number of open rooms (for health). */
  get openRooms(): number {
    return this.#cache.size
  }

  // ---------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------

  async #requirePlayer(actor: SessionUser, roomId: string): Promise<RoomRecord> {
    const room = await this.#o.store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    if (!room.players.some((p) => p.userId === actor.userId)) throw new AppError('FORBIDDEN')
    return room
  }

  async #checkInvite(roomId: string, token: string): Promise<RoomRecord> {
    const claims = await this.#o.invites.verify(token, roomId)
    const room = await this.#o.store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    // A rotated link is as dead as an expired one.
    if (claims.version !== room.inviteVersion) throw new AppError('TOKEN_EXPIRED')
    return room
  }

  async #reload(roomId: string): Promise<RoomRecord> {
    const room = await this.#o.store.get(roomId)
    if (!room) {
      this.#forget(roomId)
      throw new AppError('ROOM_NOT_FOUND')
    }
    this.#remember(room)
    return room
  }

  async #removePlayer(roomId: string, userId: string): Promise<void> {
    const updated = await this.#o.store.mutate(roomId, removePlayer(userId))
    if (updated) {
      this.#remember(updated)
      this.#publishState(updated)
    }
  }

  /** Takes away channel access and, if they are in the room's channel, disconnects them. */
  async #evict(room: RoomRecord, userId: string): Promise<void> {
    await this.#o.discord.removeMember(room.channelId, userId)
    if (this.#o.voice.memberChannel(userId) === room.channelId) {
      await this.#o.discord.moveMember(userId, null)
    }
  }

  async #connect(userId: string, room: RoomRecord): Promise<ConnectVoiceResult> {
    const joinUrl = this.#voiceJoinUrl(room)
    const current = this.#o.voice.memberChannel(userId)
    if (current === room.channelId) return { status: 'already_in_channel', joinUrl }
    if (current === null) return { status: 'not_in_voice', joinUrl }
    const outcome = await this.#o.discord.moveMember(userId, room.channelId)
    return { status: outcome, joinUrl }
  }

  async #pickCategory(): Promise<string> {
    const categories = await this.#o.store.listCategories()
    const rooms = await this.#o.store.list()
    const counts = new Map<string, number>(categories.map((id) => [id, 0]))
    for (const room of rooms) {
      if (counts.has(room.categoryId))
        counts.set(room.categoryId, (counts.get(room.categoryId) ?? 0) + 1)
    }
    for (const [id, count] of counts) {
      if (count < this.#o.channelsPerCategory) {
        if (rooms.length + categories.length >= this.#o.guildChannelLimit)
          throw new AppError('NO_CAPACITY')
        return id
      }
    }
    // A new category costs a channel too: we need room for it and the voice channel.
    if (rooms.length + categories.length + 2 > this.#o.guildChannelLimit)
      throw new AppError('NO_CAPACITY')
    const id = await this.#o.discord.createCategory(
      `${this.#o.categoryPrefix} ${categories.length + 1}`,
    )
    await this.#o.store.addCategory(id)
    return id
  }

  /**
   * Someone is in the room's voice channel or viewing its page (on this node). While
   * voice presence is unknown (`voiceReady` false, read once per pass), `assumeActive` decides
   * (the leader never closes on missing data; a follower only reports what it actually sees).
   */
  #isActive(room: RoomRecord, assumeActive: boolean, voiceReady: boolean): boolean {
    if (!voiceReady) return assumeActive || this.#o.events.viewerCount(room.id) > 0
    return (
      this.#o.voice.channelMembers(room.channelId).length > 0 ||
      this.#o.events.viewerCount(room.id) > 0
    )
  }

  /**
   * Voice activity in a room. A closing room is reopened at once; otherwise the activity is
   * written with the others of the next activityFlushMs, so thousands of busy rooms cost one
   * store write every few seconds, not one per room.
   */
  #noteActivity(roomId: string): void {
    const cached = this.#cache.get(roomId)
    if (!cached) return
    if (cached.status === 'closing') {
      void this.#touchAll([roomId])
      return
    }
    if (!activityDue(cached, this.#o.clock.now(), this.#timing)) return
    this.#pendingActivity.add(roomId)
    this.#activityTimer ??= this.#o.clock.setTimeout(() => {
      this.#activityTimer = null
      const rooms = [...this.#pendingActivity]
      this.#pendingActivity.clear()
      void this.#touchAll(rooms)
    }, this.#o.activityFlushMs)
  }

  /**
   * Touches rooms concurrently, SWEEP_BATCH at a time per turn of the event loop (a pass marks
   * every busy room at once: 2,500 touches started in one turn held the loop for tens of ms).
   * The batches are not awaited one by one, so a file store still writes them together. A
   * failure is logged per room.
   */
  async #touchAll(roomIds: readonly string[]): Promise<void> {
    const touches: Promise<void>[] = []
    for (let i = 0; i < roomIds.length; i += SWEEP_BATCH) {
      if (i > 0) await nextTurn()
      for (const roomId of roomIds.slice(i, i + SWEEP_BATCH)) {
        touches.push(
          this.#touch(roomId).catch((error: unknown) =>
            this.#o.logger.warn({ err: error, roomId }, 'recording room activity failed'),
          ),
        )
      }
    }
    await Promise.all(touches)
  }

  /** Records activity; cancels a pending closing warning. */
  async #touch(roomId: string): Promise<void> {
    const cached = this.#cache.get(roomId)
    if (cached && !activityDue(cached, this.#o.clock.now(), this.#timing)) return
    await this.#apply(roomId, ACTIVITY_SEEN)
  }

  async #refreshInviteIfExpired(room: RoomRecord): Promise<RoomRecord> {
    if (room.inviteExpiresAt > this.#o.clock.now()) return room
    // Same version: a fresh 24 h link that earlier (expired) links don't outlive.
    const invite = await this.#o.invites.sign(room.id, room.inviteVersion)
    const next = await this.#o.store.mutate(room.id, (current) => {
      if (!current) return { result: null }
      const updated = { ...current, inviteToken: invite.token, inviteExpiresAt: invite.expiresAt }
      return { next: updated, result: updated }
    })
    if (!next) throw new AppError('ROOM_NOT_FOUND')
    this.#remember(next)
    return next
  }

  #publishState(room: RoomRecord): void {
    this.#o.events.publish(room.id, { type: 'room.updated', state: roomState(room) })
  }

  #remember(room: RoomRecord): void {
    const previous = this.#cache.get(room.id)
    if (previous && previous.channelId !== room.channelId)
      this.#byChannel.delete(previous.channelId)
    this.#cache.set(room.id, room)
    this.#byChannel.set(room.channelId, room.id)
    this.#cacheVersion.set(room.id, ++this.#cacheClock)
  }

  #forget(roomId: string): void {
    const room = this.#cache.get(roomId)
    if (room && this.#byChannel.get(room.channelId) === roomId)
      this.#byChannel.delete(room.channelId)
    this.#cache.delete(roomId)
    this.#cacheVersion.set(roomId, ++this.#cacheClock)
  }

  #voiceJoinUrl(room: RoomRecord): string {
    return `${this.#o.discordWebUrl.replace(/\/$/, '')}/channels/${room.guildId}/${room.channelId}`
  }

  #view(room: RoomRecord): RoomView {
    return {
      id: room.id,
      name: room.name,
      guildId: room.guildId,
      channelId: room.channelId,
      ownerId: room.ownerId,
      players: room.players,
      maxPlayers: MAX_PLAYERS,
      status: room.status,
      createdAt: room.createdAt,
      closesAt: room.closesAt,
      voiceJoinUrl: this.#voiceJoinUrl(room),
      invite: {
        url: `${this.#o.publicUrl.replace(/\/$/, '')}/rooms/${room.id}/join?t=${encodeURIComponent(room.inviteToken)}`,
        expiresAt: room.inviteExpiresAt,
      },
    }
  }
}

function toPlayer(user: SessionUser, now: number): Player {
  return {
    userId: user.userId,
    username: user.username,
    globalName: user.globalName,
    avatar: user.avatar,
    joinedAt: now,
  }
}

const DISCORD_EPOCH = 1_420_070_400_000n

/** When a snowflake was made (epoch ms). */
function snowflakeTime(id: string): number {
  try {
    return Number((BigInt(id) >> 22n) + DISCORD_EPOCH)
  } catch {
    return 0
  }
}

/** Discord channel names: 1-100 characters. */
function channelName(name: string): string {
  return name.trim().slice(0, 100) || 'game room'
}
