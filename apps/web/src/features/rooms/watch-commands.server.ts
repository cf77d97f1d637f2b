import {
  MAX_SPECTATORS,
  type RoomLinks as PlayerLinks,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { Clock } from '../../server/clock'
import type { Actor, SessionUser } from '../../server/ports'
import type { DiscordGuilds } from './discord-rooms.server'
import type { KeyedMutex } from './keyed-mutex'
import type { RoomInvites } from './room-invites.server'
import type { RoomOps } from './room-ops.server'
import type { RoomRecord, RoomStore } from './room-store'
import { playerLinks, type RoomLinks } from './room-view'
import { addSpectator, removeSpectator, spectatorFrom } from './spectator-rules'

/** What a watch link shows before watching. */
export interface WatchPreview {
  roomId: string
  name: string
  spectators: number
  maxSpectators: number
}

export interface WatchCommandsOptions {
  store: RoomStore
  discord: DiscordGuilds
  invites: RoomInvites
  ops: RoomOps
  mutex: KeyedMutex
  clock: Clock
  logger: Logger
  links: RoomLinks
}

/**
 * Spectators: the host's watch link (signed, 24 h, rotatable, revocable), watching by it (a place
 * among at most eight, and a listen-only overwrite on the voice channel: View Channel and Connect
 * allowed, Speak and Video denied), and the host removing a spectator.
 */
export class WatchCommands {
  readonly #o: WatchCommandsOptions

  constructor(options: WatchCommandsOptions) {
    this.#o = options
  }

  /** Makes the watch link, or a new one (the earlier one stops working); host only. */
  async rotateWatchLink(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    await this.#o.ops.requireHost(actor, roomId)
    return this.#links(await this.#o.invites.rotateWatch(roomId))
  }

  /** Revokes the watch link (spectators watching stay; the host may remove them); host only. */
  async revokeWatchLink(actor: SessionUser, roomId: string): Promise<PlayerLinks> {
    await this.#o.ops.requireHost(actor, roomId)
    return this.#links(await this.#o.invites.revokeWatch(roomId))
  }

  /** Public facts about the room a watch link points to, once the link is checked. */
  async previewWatch(roomId: string, token: string): Promise<WatchPreview> {
    const room = await this.#o.invites.checkWatch(roomId, token)
    return {
      roomId,
      name: room.name,
      spectators: room.spectators.length,
      maxSpectators: MAX_SPECTATORS,
    }
  }

  /**
   * Watches a room by its watch link: a spectator's place (SPECTATORS_FULL past eight), the guild
   * when needed, and listen-only access to the voice channel. A player opening it is a no-op: they
   * already see the room. The lock does not apply.
   */
  watchRoom(actor: Actor, roomId: string, token: string): Promise<RoomView> {
    return this.#o.mutex.run(`user:${actor.userId}`, async () => {
      await this.#o.invites.checkWatch(roomId, token)
      const { store, discord, ops } = this.#o
      const outcome = await store.mutate(
        roomId,
        addSpectator(spectatorFrom(actor, this.#o.clock.now())),
      )
      if (outcome === 'missing') throw new AppError('ROOM_NOT_FOUND')
      if (outcome === 'full') throw new AppError('SPECTATORS_FULL')
      const room = await ops.reload(roomId)
      if (outcome === 'player') {
        return ops.view(room, room.ownerId === actor.userId ? 'host' : 'player')
      }
      if (outcome === 'added') {
        try {
          const guild = discord.forGuild(room.guildId)
          await guild.addGuildMember(actor.userId, actor.accessToken)
          await guild.allowSpectator(room.channelId, actor.userId)
        } catch (error) {
          const undone = await store.mutate(roomId, removeSpectator(actor.userId))
          if (undone && undone !== 'absent') ops.remember(undone)
          throw error
        }
        ops.publishState(room)
        await ops.fitUserLimit(room)
        this.#o.logger.info({ roomId, userId: actor.userId }, 'spectator joined')
      }
      return ops.view(room, 'spectator')
    })
  }

  /**
   * The host removes a spectator: their place, their access and their voice connection. They
   * still hold the watch link, so a live one is rotated (as a kick rotates the invite).
   */
  removeSpectator(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#o.mutex.run(`user:${userId}`, async () => {
      const room = await this.#o.ops.requireHost(actor, roomId)
      let next = await this.#o.ops.removeSpectator(room, userId)
      if (next.watchToken !== null) {
        next = await this.#o.invites.rotateWatch(roomId)
        this.#o.ops.publishState(next)
      }
      this.#o.logger.info({ roomId, userId, by: actor.userId }, 'spectator removed')
      return this.#o.ops.view(next, 'host')
    })
  }

  #links(room: RoomRecord): PlayerLinks {
    this.#o.ops.publishState(room)
    const links = playerLinks(room, this.#o.links)
    if (!links) throw new AppError('INTERNAL')
    return links
  }
}
