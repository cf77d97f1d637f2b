import { randomBytes } from 'node:crypto'
import {
  type ConnectVoiceResult,
  MAX_PLAYERS,
  type RoomLinks as PlayerLinks,
  type RoomRole,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError, isAppError } from '../../server/app-error'
import type { AttemptLimiter } from '../../server/attempt-limiter'
import type { Clock } from '../../server/clock'
import type { Actor, SessionUser } from '../../server/ports'
import type { CategoryAllocator } from './category-allocator.server'
import type { DiscordGuilds } from './discord-rooms.server'
import type { GuildPlacement } from './guild-placement.server'
import type { KeyedMutex } from './keyed-mutex'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomInvites } from './room-invites.server'
import type { RoomOps } from './room-ops.server'
import { guildChannelsLock } from './room-reconciler.server'
import type { InsertResult, RoomRecord, RoomStore } from './room-store'
import { playerLinks, type RoomLinks } from './room-view'
import { playerFrom, takeSeat } from './seat-rules'

/** Room code attempts are limited per user and per address (a guesser has both to spend). */
export interface CodeAttemptLimits {
  perUser: AttemptLimiter
  perAddress: AttemptLimiter
}

export interface RoomCommandsOptions {
  store: RoomStore
  discord: DiscordGuilds
  /** Which guild a new room goes in. */
  placement: GuildPlacement
  clock: Clock
  logger: Logger
  directory: CachedRoomDirectory
  lifecycle: LifecycleRunner
  invites: RoomInvites
  categories: CategoryAllocator
  ops: RoomOps
  /** Serialises the commands of one user, and room creation with reconciliation. */
  mutex: KeyedMutex
  links: RoomLinks
  /** Open rooms one user may host at once. */
  maxRoomsPerOwner: number
  codeAttempts: CodeAttemptLimits
}

/** What an invite link shows before joining. */
export interface InvitePreview {
  roomId: string
  name: string
  players: number
  maxPlayers: number
  /** A locked room takes no new player (the page says so before they try). */
  locked: boolean
}

/** The result of a join (by link or by code). */
export interface JoinResult {
  room: RoomView
  voice: ConnectVoiceResult
}

/**
 * The room commands behind the server functions, framework-free. Each is authorised from the
 * `Actor` (built from the server-side session, never from browser input) and serialised per
 * user; the seat rules and the owner cap are decided atomically by the store.
 */
export class RoomCommands {
  readonly #o: RoomCommandsOptions

  constructor(options: RoomCommandsOptions) {
    this.#o = options
  }

  /**
   * Creates a room owned by the actor, with its private voice channel, invite link and code, in
   * the guild the placement chooses (`guildId`: one the player picked, for community servers). A
   * pool guild Discord finds full is skipped for the next best one.
   */
  createRoom(actor: Actor, name: string, options: { guildId?: string } = {}): Promise<RoomView> {
    const { mutex, maxRoomsPerOwner } = this.#o
    return mutex.run(`user:${actor.userId}`, async () => {
      // Each room is a Discord channel, and a guild holds 500: one account must not take them all.
      // This count (the cache) spares Discord calls; the store's insert decides, across nodes.
      if (this.#o.directory.ownedBy(actor.userId) >= maxRoomsPerOwner) {
        throw new AppError('TOO_MANY_ROOMS')
      }
      const exclude = new Set<string>()
      for (;;) {
        const guildId = await this.#o.placement.choose({
          ...(options.guildId === undefined ? {} : { requestedGuildId: options.guildId }),
          exclude,
        })
        try {
          return await this.#createIn(actor, name, guildId)
        } catch (error) {
          if (options.guildId !== undefined || !isAppError(error, 'NO_CAPACITY')) throw error
          exclude.add(guildId)
        } finally {
          this.#o.placement.settle(guildId)
        }
      }
    })
  }

  async #createIn(actor: Actor, name: string, guildId: string): Promise<RoomView> {
    const { store, maxRoomsPerOwner, mutex } = this.#o
    const discord = this.#o.discord.forGuild(guildId)
    await discord.addGuildMember(actor.userId, actor.accessToken)
    const id = randomBytes(12).toString('base64url')
    // The category, the channel and the insert under the lock reconcile() takes too.
    const room = await mutex.run(guildChannelsLock(guildId), async () => {
      const categoryId = await this.#o.categories.pick(guildId)
      let channelId: string
      try {
        channelId = await discord.createRoomChannel({
          name: channelName(name),
          parentId: categoryId,
          ownerId: actor.userId,
        })
      } catch (error) {
        // Discord's own count (30013): the guild holds channels we did not see.
        if (isAppError(error, 'NO_CAPACITY')) this.#o.categories.markFull(guildId)
        throw error
      }
      const now = this.#o.clock.now()
      const invite = await this.#o.invites.first(id)
      const record: RoomRecord = {
        id,
        name,
        guildId,
        channelId,
        categoryId,
        ownerId: actor.userId,
        players: [playerFrom(actor, now)],
        status: 'open',
        createdAt: now,
        closesAt: null,
        inviteVersion: 1,
        inviteToken: invite.token,
        inviteExpiresAt: invite.expiresAt,
        lastActivityAt: now,
        spectators: [],
        locked: false,
        code: invite.code,
        linksRev: 0,
        watchVersion: 0,
        watchToken: null,
        watchExpiresAt: null,
      }
      let inserted: InsertResult
      try {
        inserted = await store.insert(record, { maxRoomsPerOwner })
      } catch (error) {
        await discord.deleteChannel(channelId).catch(() => undefined)
        throw error
      }
      if (inserted === 'owner_cap') {
        // Another node created the owner's last allowed room meanwhile.
        await discord.deleteChannel(channelId).catch(() => undefined)
        throw new AppError('TOO_MANY_ROOMS')
      }
      return record
    })
    this.#o.ops.remember(room)
    const { channelId } = room
    this.#o.logger.info({ roomId: id, guildId, channelId, ownerId: actor.userId }, 'room created')
    return this.#o.ops.view(room, 'host')
  }

  /** The room as one of its players or spectators sees it, and what the caller is in it. */
  async openRoom(actor: SessionUser, roomId: string): Promise<{ room: RoomView; role: RoomRole }> {
    const { room, role } = await this.#o.ops.requireMember(actor, roomId)
    const current = role === 'spectator' ? room : await this.#o.invites.refreshIfExpired(room)
    if (current !== room) this.#o.ops.publishState(current)
    return { room: this.#o.ops.view(current, role), role }
  }

  /** The links only players see (invite link, room code, watch link), renewed if they expired. */
  async getRoomLinks(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    const room = await this.#o.ops.requirePlayer(actor, roomId)
    const current = await this.#o.invites.refreshIfExpired(room)
    if (current !== room) this.#o.ops.publishState(current)
    const links = playerLinks(current, this.#o.links)
    if (!links) throw new AppError('INTERNAL')
    return links
  }

  /** Public facts about a room an invite points to (name, seats, lock), after checking the link. */
  async previewInvite(roomId: string, token: string): Promise<InvitePreview> {
    const room = await this.#o.invites.check(roomId, token)
    return {
      roomId,
      name: room.name,
      players: room.players.length,
      maxPlayers: MAX_PLAYERS,
      locked: room.locked,
    }
  }

  /**
   * Joins a room with an invite link: takes a seat atomically (ROOM_LOCKED while the host has
   * locked it, ROOM_FULL when four are taken; a current player is a no-op), adds the user to the
   * guild, grants channel access, then tries to connect their voice.
   */
  joinRoom(actor: Actor, roomId: string, token: string): Promise<JoinResult> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      await this.#o.invites.check(roomId, token)
      return this.#seat(actor, roomId)
    })
  }

  /**
   * Joins a room by its code, with the same rules as the invite link. Every attempt counts against
   * the caller and their address (CODE_ATTEMPTS with the seconds to wait once either is spent), so
   * codes cannot be guessed: an unknown or expired code is CODE_INVALID.
   */
  joinByCode(actor: Actor, code: string, address: string | null): Promise<JoinResult> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      const { perUser, perAddress } = this.#o.codeAttempts
      const verdicts = await Promise.all([
        perUser.hit(`user:${actor.userId}`),
        address === null ? { ok: true as const } : perAddress.hit(`addr:${address}`),
      ])
      const waits = verdicts.flatMap((v) => (v.ok ? [] : [v.retryAfter]))
      if (waits.length > 0) {
        this.#o.logger.info({ userId: actor.userId, address }, 'room code attempts refused')
        throw new AppError('CODE_ATTEMPTS', { retryAfter: Math.max(...waits) })
      }
      const room = await this.#o.invites.checkCode(code)
      return this.#seat(actor, room.id)
    })
  }

  /**
   * Leaves a room: a player's seat is freed at once (a deliberate leave is no drop; the owner
   * hands the room to the longest-seated player who is here, or closes it when alone); a
   * spectator stops watching.
   */
  leaveRoom(actor: SessionUser, roomId: string): Promise<void> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      const { room, role } = await this.#o.ops.requireMember(actor, roomId)
      if (role === 'spectator') {
        await this.#o.ops.removeSpectator(room, actor.userId)
        this.#o.logger.info({ roomId, userId: actor.userId }, 'spectator left')
        return
      }
      if (room.players.length === 1) {
        await this.#o.lifecycle.close(roomId, 'closed')
        return
      }
      await this.#o.ops.removePlayer(roomId, actor.userId)
      await this.#o.ops.evict(room, actor.userId)
      this.#o.logger.info({ roomId, userId: actor.userId }, 'player left')
    })
  }

  /** Closes a room now (owner only). */
  async closeRoom(actor: SessionUser, roomId: string): Promise<void> {
    await this.#o.ops.requireHost(actor, roomId)
    await this.#o.lifecycle.close(roomId, 'closed')
  }

  /** Removes a player (owner only): their seat, their channel access and their voice connection. */
  kickPlayer(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#o.mutex.run(`user:${userId}`, async () => {
      const room = await this.#o.ops.requireHost(actor, roomId)
      if (userId === actor.userId) throw new AppError('INVALID_INPUT')
      if (!room.players.some((p) => p.userId === userId)) throw new AppError('INVALID_INPUT')
      await this.#o.ops.removePlayer(roomId, userId)
      await this.#o.ops.evict(room, userId)
      // The kicked player still holds the invite link and code: new ones keep them out.
      const next = await this.#o.invites.rotate(roomId)
      this.#o.ops.publishState(next)
      this.#o.logger.info({ roomId, userId, by: actor.userId }, 'player kicked')
      return this.#o.ops.view(next, 'host')
    })
  }

  /** Issues a new invite link and code; earlier ones stop working (owner only). */
  async rotateInvite(actor: SessionUser, roomId: string): Promise<RoomView> {
    await this.#o.ops.requireHost(actor, roomId)
    const next = await this.#o.invites.rotate(roomId)
    this.#o.ops.publishState(next)
    return this.#o.ops.view(next, 'host')
  }

  /**
   * Puts the actor (a player or a spectator) in the room's voice channel if Discord allows: moved
   * when they are in another voice channel of the guild, otherwise not_in_voice with the link.
   */
  connectVoice(actor: SessionUser, roomId: string): Promise<ConnectVoiceResult> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      const { room } = await this.#o.ops.requireMember(actor, roomId)
      return this.#o.ops.connect(actor.userId, room)
    })
  }

  /** The open rooms the actor plays in, newest first. */
  async listMyRooms(actor: SessionUser): Promise<RoomView[]> {
    const rooms = await this.#o.store.list()
    return rooms
      .filter((room) => room.players.some((p) => p.userId === actor.userId))
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((room) => this.#o.ops.view(room, room.ownerId === actor.userId ? 'host' : 'player'))
  }

  // ---------------------------------------------------------------------------

  /** Takes a seat (by link or code, already checked), then the Discord side, then voice. */
  async #seat(actor: Actor, roomId: string): Promise<JoinResult> {
    const { store, ops } = this.#o
    const seat = takeSeat(playerFrom(actor, this.#o.clock.now()))
    const wasWatching = this.#o.directory
      .get(roomId)
      ?.spectators.some((s) => s.userId === actor.userId)
    const outcome = await store.mutate(roomId, seat)
    if (outcome === 'missing') throw new AppError('ROOM_NOT_FOUND')
    if (outcome === 'full') throw new AppError('ROOM_FULL')
    if (outcome === 'locked') throw new AppError('ROOM_LOCKED')
    const room = await ops.reload(roomId)
    const discord = this.#o.discord.forGuild(room.guildId)
    if (outcome === 'added') {
      try {
        await discord.addGuildMember(actor.userId, actor.accessToken)
        // A spectator's listen-only overwrite is replaced by a player's.
        await discord.allowMember(room.channelId, actor.userId)
      } catch (error) {
        await ops.removePlayer(roomId, actor.userId)
        throw error
      }
      ops.publishState(room)
      if (wasWatching) await ops.fitUserLimit(room)
      this.#o.logger.info({ roomId, userId: actor.userId }, 'player joined')
    }
    const voice = await ops.connect(actor.userId, room)
    const latest = await ops.reload(roomId)
    return { room: ops.view(latest, latest.ownerId === actor.userId ? 'host' : 'player'), voice }
  }
}

/** Discord channel names: 1-100 characters. */
function channelName(name: string): string {
  return name.trim().slice(0, 100) || 'game room'
}
