import {
  type ConnectVoiceResult,
  MAX_PLAYERS,
  type RoomRole,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { RoomEvents, SessionUser, VoicePresence } from '../../server/ports'
import type { DiscordGuilds } from './discord-rooms.server'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomRecord, RoomStore } from './room-store'
import { type RoomLinks, roleIn, roomState, roomView, voiceJoinUrl } from './room-view'
import { type HostActionResult, removePlayer } from './seat-rules'
import { removeSpectator } from './spectator-rules'

export interface RoomOpsOptions {
  store: RoomStore
  directory: CachedRoomDirectory
  discord: DiscordGuilds
  voice: VoicePresence
  events: RoomEvents
  logger: Logger
  links: RoomLinks
}

/**
 * What the room commands share: who the caller is in a room (authorised from the Actor, never
 * from input), reading a room back into the directory, telling its browsers, and the Discord
 * side of someone leaving (their overwrite, their voice connection, the channel's user limit).
 */
export class RoomOps {
  readonly #o: RoomOpsOptions

  constructor(options: RoomOpsOptions) {
    this.#o = options
  }

  /** The room and the caller's role in it; FORBIDDEN when they neither sit nor watch. */
  async requireMember(
    actor: SessionUser,
    roomId: string,
  ): Promise<{ room: RoomRecord; role: RoomRole }> {
    const room = await this.#o.store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    const role = roleIn(room, actor.userId)
    if (!role) throw new AppError('FORBIDDEN')
    return { room, role }
  }

  /** The room when the caller has a seat (host or player); spectators are FORBIDDEN. */
  async requirePlayer(actor: SessionUser, roomId: string): Promise<RoomRecord> {
    const { room, role } = await this.requireMember(actor, roomId)
    if (role === 'spectator') throw new AppError('FORBIDDEN')
    return room
  }

  /** The room when the caller hosts it. */
  async requireHost(actor: SessionUser, roomId: string): Promise<RoomRecord> {
    const { room, role } = await this.requireMember(actor, roomId)
    if (role !== 'host') throw new AppError('FORBIDDEN')
    return room
  }

  /** A host action's refusal as the typed error it is (see seat-rules.ts). */
  hostOutcome(result: HostActionResult): RoomRecord {
    if (result.ok) {
      this.#o.directory.remember(result.room)
      return result.room
    }
    if (result.reason === 'missing') throw new AppError('ROOM_NOT_FOUND')
    if (result.reason === 'not_host') throw new AppError('FORBIDDEN')
    throw new AppError('INVALID_INPUT')
  }

  /** The room as the store has it now (into the directory); ROOM_NOT_FOUND when it is gone. */
  async reload(roomId: string): Promise<RoomRecord> {
    const room = await this.#o.store.get(roomId)
    if (!room) {
      this.#o.directory.forget(roomId)
      throw new AppError('ROOM_NOT_FOUND')
    }
    this.#o.directory.remember(room)
    return room
  }

  remember(room: RoomRecord): void {
    this.#o.directory.remember(room)
  }

  /** room.updated to every browser of the room. */
  publishState(room: RoomRecord): void {
    this.#o.events.publish(room.id, { type: 'room.updated', state: roomState(room) })
  }

  view(room: RoomRecord, role: RoomRole): RoomView {
    return roomView(room, this.#o.links, role)
  }

  /** Frees the user's seat (the owner's goes to the next host) and tells the browsers. */
  async removePlayer(roomId: string, userId: string): Promise<void> {
    const updated = await this.#o.store.mutate(roomId, removePlayer(userId))
    if (updated) {
      this.#o.directory.remember(updated)
      this.publishState(updated)
    }
  }

  /** Ends someone's spectating (stopped, or removed by the host): place, access, voice, limit. */
  async removeSpectator(room: RoomRecord, userId: string): Promise<RoomRecord> {
    const updated = await this.#o.store.mutate(room.id, removeSpectator(userId))
    if (updated === null) throw new AppError('ROOM_NOT_FOUND')
    if (updated === 'absent') throw new AppError('INVALID_INPUT')
    this.#o.directory.remember(updated)
    this.publishState(updated)
    await this.evict(room, userId)
    await this.fitUserLimit(updated)
    return updated
  }

  /** Takes away channel access and, if they are in the room's channel, disconnects them. */
  async evict(room: RoomRecord, userId: string): Promise<void> {
    const discord = this.#o.discord.forGuild(room.guildId)
    await discord.removeMember(room.channelId, userId)
    if (this.#o.voice.memberChannel(room.guildId, userId) === room.channelId) {
      await discord.moveMember(userId, null)
    }
  }

  /**
   * The channel holds the four players plus the spectators watching (Discord's user limit counts
   * everyone connected). Best effort: a failure leaves the old limit and is logged.
   */
  async fitUserLimit(room: RoomRecord): Promise<void> {
    try {
      await this.#o.discord
        .forGuild(room.guildId)
        .setUserLimit(room.channelId, MAX_PLAYERS + room.spectators.length)
    } catch (error) {
      this.#o.logger.warn({ err: error, roomId: room.id }, 'could not set the channel user limit')
    }
  }

  /**
   * Puts the user in the room's voice channel if Discord allows: moved when they are in another
   * voice channel of the guild, otherwise not_in_voice with the link to open the channel.
   */
  async connect(userId: string, room: RoomRecord): Promise<ConnectVoiceResult> {
    const joinUrl = voiceJoinUrl(room, this.#o.links)
    const current = this.#o.voice.memberChannel(room.guildId, userId)
    if (current === room.channelId) return { status: 'already_in_channel', joinUrl }
    if (current === null) return { status: 'not_in_voice', joinUrl }
    const outcome = await this.#o.discord.forGuild(room.guildId).moveMember(userId, room.channelId)
    return { status: outcome, joinUrl }
  }
}
