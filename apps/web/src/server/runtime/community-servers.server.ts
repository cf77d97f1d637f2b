import type { DiscordRest } from '@repo/discord-integration'
import { DEFAULT_SERVER_ROOM_SETTINGS } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { GuildRegistry } from '../../features/guilds/guild-registry.server'
import type { RoomService, RoomServiceOptions } from '../../features/rooms/room-service.server'
import {
  CommunityServers,
  restCommunityDiscord,
} from '../../features/servers/community-servers.server'
import type { ServerSettingsStore } from '../../features/servers/server-settings-store'
import type { Clock } from '../clock'
import { communityPlacement } from '../community-placement'

/**
 * Community servers (ROOMS_COMMUNITY=1, that is with a settings store): the servers a user can
 * create rooms in and the settings of those they manage. `guilds` is read lazily (the registry is
 * built after the servers).
 */
export function createCommunityServers(options: {
  rest: DiscordRest
  settings: ServerSettingsStore
  guilds: () => GuildRegistry
  clock: Clock
  logger: Logger
}): CommunityServers {
  const { rest, settings, guilds, clock, logger } = options
  return new CommunityServers({
    discord: restCommunityDiscord(rest),
    store: settings,
    now: () => clock.now(),
    logger: logger.child({ component: 'servers' }),
    // The bot in it, no outage, its permissions hold (the guild registry).
    placeable: (guildId) => guilds().placeable(guildId),
    // Whether the bot is in a guild, as the gateway reports it, at once (unknown: Discord's list).
    botInGuild: (guildId) => {
      const state = guilds().get(guildId)?.state
      return state === 'available' || state === 'unavailable'
        ? true
        : state === 'removed'
          ? false
          : null
    },
  })
}

/**
 * The rooms' options for community servers (ROOMS_COMMUNITY=1): the placement that serves a picked
 * community server, and the category name its managers chose (the pool's servers keep the default).
 */
export function communityRooms(
  pool: readonly string[],
  settings: ServerSettingsStore,
  guilds: GuildRegistry,
  rooms: () => RoomService | null,
): Pick<RoomServiceOptions, 'placement' | 'categoryName'> {
  const settingsOf = async (guildId: string) =>
    (await settings.get(guildId)) ?? DEFAULT_SERVER_ROOM_SETTINGS
  return {
    placement: (poolPlacement) =>
      communityPlacement(poolPlacement, {
        pool,
        settings: settingsOf,
        placeable: (guildId) => guilds.placeable(guildId),
        usage: async (guildIds) =>
          ((await rooms()?.guildUsage(guildIds)) ?? []).filter((u) => guildIds.includes(u.guildId)),
      }),
    categoryName: async (guildId) =>
      pool.includes(guildId) ? null : (await settingsOf(guildId)).categoryName,
  }
}
