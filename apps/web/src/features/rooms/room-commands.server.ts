import { randomBytes } from 'node:crypto'
import {
  type ConnectVoiceResult,
  MAX_PLAYERS,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { Clock } from '../../server/clock'
import type { Actor, RoomEvents, SessionUser, VoicePresence } from '../../server/ports'
import type { CategoryAllocator } from './category-allocator.server'
import type { DiscordRoomsPort } from './discord-rooms.server'
import type { KeyedMutex } from './keyed-mutex'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomInvites } from './room-invites.server'
import { GUILD_CHANNELS_LOCK } from './room-reconciler.server'
import type { InsertResult, RoomRecord, RoomStore } from './room-store'
import { type RoomLinks, roomState, roomView, voiceJoinUrl } from './room-view'
import { playerFrom, removePlayer, takeSeat } from './seat-rules'

export interface RoomCommandsOptions {
  store: RoomStore
  discord: DiscordRoomsPort
  voice: VoicePresence
  events: RoomEvents
  clock: Clock
  logger: Logger
  directory: CachedRoomDirectory
  lifecycle: LifecycleRunner
  invites: RoomInvites
  categories: CategoryAllocator
  /** Serialises the commands of one user, and room creation with reconciliation. */
  mutex: KeyedMutex
  links: RoomLinks
  /** Open rooms one user may host at once. */
  maxRoomsPerOwner: number
}

/** What an invite link shows before joining. */
export interface InvitePreview {
  roomId: string
  name: string
  players: number
  maxPlayers: number
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

  /** Creates a room owned by the actor, with its private voice channel. */
  createRoom(actor: Actor, name: string): Promise<RoomView> {
    const { store, discord, mutex, maxRoomsPerOwner } = this.#o
    return mutex.run(`user:${actor.userId}`, async () => {
      // Each room is a Discord channel, and a guild holds 500: one account must not take them all.
      // This count (the cache) spares Discord calls; the store's insert decides, across nodes.
      if (this.#o.directory.ownedBy(actor.userId) >= maxRoomsPerOwner) {
        throw new AppError('TOO_MANY_ROOMS')
      }
      await discord.addGuildMember(actor.userId, actor.accessToken)
      const id = randomBytes(12).toString('base64url')
      // The category, the channel and the insert under the lock reconcile() takes too.
      const room = await mutex.run(GUILD_CHANNELS_LOCK, async () => {
        const categoryId = await this.#o.categories.pick()
        const channelId = await discord.createRoomChannel({
          name: channelName(name),
          parentId: categoryId,
          ownerId: actor.userId,
        })
        const now = this.#o.clock.now()
        const invite = await this.#o.invites.first(id)
        const record: RoomRecord = {
          id,
          name,
          guildId: discord.guildId,
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
      this.#o.directory.remember(room)
      const { channelId } = room
      this.#o.logger.info({ roomId: id, channelId, ownerId: actor.userId }, 'room created')
      return this.#view(room)
    })
  }

  /** The room as one of its players sees it. */
  async getRoom(actor: SessionUser, roomId: string): Promise<RoomView> {
    const room = await this.#requirePlayer(actor, roomId)
    return this.#view(await this.#o.invites.refreshIfExpired(room))
  }

  /** Public facts about a room an invite points to (name, seats), after checking the link. */
  async previewInvite(roomId: string, token: string): Promise<InvitePreview> {
    const room = await this.#o.invites.check(roomId, token)
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
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      await this.#o.invites.check(roomId, token)
      const seat = takeSeat(playerFrom(actor, this.#o.clock.now()))
      const outcome = await this.#o.store.mutate(roomId, seat)
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
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      const room = await this.#requirePlayer(actor, roomId)
      if (room.players.length === 1) {
        await this.#o.lifecycle.close(roomId, 'closed')
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
    await this.#o.lifecycle.close(roomId, 'closed')
  }

  /** Removes a player (owner only): their seat, their channel access and their voice connection. */
  kickPlayer(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#o.mutex.run(`user:${userId}`, async () => {
      const room = await this.#requirePlayer(actor, roomId)
      if (room.ownerId !== actor.userId) throw new AppError('FORBIDDEN')
      if (userId === actor.userId) throw new AppError('INVALID_INPUT')
      if (!room.players.some((p) => p.userId === userId)) throw new AppError('INVALID_INPUT')
      await this.#removePlayer(roomId, userId)
      await this.#evict(room, userId)
      // The kicked player still holds the invite link: a new one keeps them out.
      const next = await this.#o.invites.rotate(roomId)
      this.#o.logger.info({ roomId, userId, by: actor.userId }, 'player kicked')
      return this.#view(next)
    })
  }

  /** Issues a new invite link; earlier links stop working (owner only). */
  async rotateInvite(actor: SessionUser, roomId: string): Promise<RoomView> {
    const room = await this.#requirePlayer(actor, roomId)
    if (room.ownerId !== actor.userId) throw new AppError('FORBIDDEN')
    return this.#view(await this.#o.invites.rotate(roomId))
  }

  /**
   * Puts the actor in the room's voice channel if Discord allows: moved when
   * they are in another voice channel of the guild, otherwise not_in_voice with
   * the link to open the channel in Discord.
   */
  connectVoice(actor: SessionUser, roomId: string): Promise<ConnectVoiceResult> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
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
  // Internals
  // ---------------------------------------------------------------------------

  async #requirePlayer(actor: SessionUser, roomId: string): Promise<RoomRecord> {
    const room = await this.#o.store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    if (!room.players.some((p) => p.userId === actor.userId)) throw new AppError('FORBIDDEN')
    return room
  }

  async #reload(roomId: string): Promise<RoomRecord> {
    const room = await this.#o.store.get(roomId)
    if (!room) {
      this.#o.directory.forget(roomId)
      throw new AppError('ROOM_NOT_FOUND')
    }
    this.#o.directory.remember(room)
    return room
  }

  async #removePlayer(roomId: string, userId: string): Promise<void> {
    const updated = await this.#o.store.mutate(roomId, removePlayer(userId))
    if (updated) {
      this.#o.directory.remember(updated)
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
    const joinUrl = voiceJoinUrl(room, this.#o.links)
    const current = this.#o.voice.memberChannel(userId)
    if (current === room.channelId) return { status: 'already_in_channel', joinUrl }
    if (current === null) return { status: 'not_in_voice', joinUrl }
    const outcome = await this.#o.discord.moveMember(userId, room.channelId)
    return { status: outcome, joinUrl }
  }

  #publishState(room: RoomRecord): void {
    this.#o.events.publish(room.id, { type: 'room.updated', state: roomState(room) })
  }

  #view(room: RoomRecord): RoomView {
    return roomView(room, this.#o.links)
  }
}

/** Discord channel names: 1-100 characters. */
function channelName(name: string): string {
  return name.trim().slice(0, 100) || 'game room'
}
