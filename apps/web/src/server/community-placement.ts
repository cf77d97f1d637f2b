import type { ServerRoomSettings } from '@repo/discord-integration/contracts'
import { AppError } from './app-error'

/**
 * The create-room flow's placement seam as community servers see it (structurally the rooms'
 * GuildPlacement): which guild a new room goes in, given the guild a player picked, if any.
 */
export interface PlacementSeam {
  choose(request?: { requestedGuildId?: string; exclude?: ReadonlySet<string> }): Promise<string>
  settle(guildId: string): void
}

/** A guild's room usage (the rooms' GuildUsage, the fields read here). */
export interface CommunityGuildUsage {
  guildId: string
  /** Open rooms there. */
  rooms: number
  /** Rooms that still fit under Discord's limits. */
  freeRooms: number
}

export interface CommunityPlacementOptions {
  /** The deployment's own servers: a pick of one of them is the pool placement's to serve. */
  pool: readonly string[]
  /** A community server's room settings (the defaults until its managers save some). */
  settings(guildId: string): Promise<ServerRoomSettings>
  /** Whether a guild may take rooms now: the bot is in it, no outage, its permissions hold. */
  placeable(guildId: string): boolean
  /** Rooms and free capacity per guild. */
  usage(guildIds: readonly string[]): Promise<CommunityGuildUsage[]>
}

/**
 * Wraps the pool placement so that a room can go in a community server a player picked (ROOMS_
 * COMMUNITY=1). The player's right to create rooms there (a shared server, rooms enabled, the
 * required role) is checked before, with their token (CommunityServers.placement); this checks
 * what holds for everyone: rooms still enabled, the server can take rooms now, and it has fewer
 * open rooms than its "Most open rooms" (SERVER_FULL) and than Discord's limits (NO_CAPACITY).
 * No pick, or a pick of a pool server: the pool placement decides, as without community servers.
 */
export function communityPlacement(
  pool: PlacementSeam,
  options: CommunityPlacementOptions,
): PlacementSeam {
  return {
    async choose(request = {}) {
      const guildId = request.requestedGuildId
      if (guildId === undefined || options.pool.includes(guildId)) return pool.choose(request)
      const settings = await options.settings(guildId)
      if (!settings.roomsEnabled || !options.placeable(guildId)) {
        throw new AppError('SERVER_NOT_ALLOWED', { detail: 'rooms off, or the guild is not ready' })
      }
      const [usage] = await options.usage([guildId])
      const rooms = usage?.rooms ?? 0
      if (rooms >= settings.maxOpenRooms) throw new AppError('SERVER_FULL')
      if (!usage || usage.freeRooms <= 0 || request.exclude?.has(guildId)) {
        throw new AppError('NO_CAPACITY')
      }
      return guildId
    },
    // Only the pool counts rooms on their way (a community server's own cap is its settings').
    settle: (guildId) => pool.settle(guildId),
  }
}
