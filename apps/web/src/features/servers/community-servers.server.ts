import {
  type DiscordRest,
  fetchBotGuildIds,
  fetchGuildRoles,
  fetchMemberRoles,
  fetchUserGuilds,
  type GuildRole,
  type PartialGuild,
} from '@repo/discord-integration'
import {
  canManageGuild,
  DEFAULT_SERVER_ROOM_SETTINGS,
  type MyServer,
  type SaveServerSettingsInput,
  type ServerRole,
  type ServerRoomSettings,
  type ServerSettingsView,
} from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError } from '../../server/app-error'
import type { Actor } from '../../server/ports'
import type { ServerSettingsStore } from './server-settings-store'
import { TtlCache } from './ttl-cache'

/** What community servers read from Discord (guild-reads.ts over REST, or a test's). */
export interface CommunityDiscord {
  /** The user's guilds, with their permissions there (their OAuth2 token, `guilds` scope). */
  userGuilds(accessToken: string): Promise<PartialGuild[]>
  /** The guilds the bot is in. */
  botGuildIds(): Promise<Set<string>>
  /** A member's role ids; null when the user is not a member. */
  memberRoles(guildId: string, userId: string): Promise<string[] | null>
  /** A guild's roles, highest first. */
  guildRoles(guildId: string): Promise<GuildRole[]>
}

/** {@link CommunityDiscord} on the app's REST client. */
export function restCommunityDiscord(rest: DiscordRest): CommunityDiscord {
  return {
    userGuilds: (accessToken) => fetchUserGuilds(rest, accessToken),
    botGuildIds: () => fetchBotGuildIds(rest),
    memberRoles: (guildId, userId) => fetchMemberRoles(rest, guildId, userId),
    guildRoles: (guildId) => fetchGuildRoles(rest, guildId),
  }
}

/** Options of {@link CommunityServers}. */
export interface CommunityServersOptions {
  discord: CommunityDiscord
  store: ServerSettingsStore
  now: () => number
  logger: Logger
  /**
   * How long a user's guild list, the bot's guilds and a member's roles are reused.
   * @defaultValue 30 s
   */
  cacheMs?: number
  /** Users (and members) whose guilds (roles) are cached at most. @defaultValue 10,000 */
  maxCachedUsers?: number
}

/** Where a room the caller creates in a community server goes, and that server's rules. */
export interface ServerPlacement {
  guildId: string
  settings: ServerRoomSettings
}

/**
 * Community servers (ROOMS_COMMUNITY=1): which of the signed-in user's Discord servers they can
 * create rooms in (shared with the bot, rooms enabled, the required role held), and the room
 * settings of the servers they manage (owner or Manage Server, read from their own guild list).
 * Discord's answers are reused for a short while ({@link CommunityServersOptions.cacheMs}); a save
 * re-reads the caller's permissions first.
 */
export class CommunityServers {
  readonly #o: CommunityServersOptions
  readonly #userGuilds: TtlCache<string, PartialGuild[]>
  readonly #botGuilds: TtlCache<'bot', Set<string>>
  readonly #memberRoles: TtlCache<string, string[] | null>

  constructor(options: CommunityServersOptions) {
    this.#o = options
    const ttl = options.cacheMs ?? 30_000
    const max = options.maxCachedUsers ?? 10_000
    this.#userGuilds = new TtlCache(ttl, max, options.now)
    this.#botGuilds = new TtlCache(ttl, 1, options.now)
    this.#memberRoles = new TtlCache(ttl, max, options.now)
  }

  /**
   * The caller's servers that the bot is in too, each with whether they can create rooms there
   * and whether they manage it; sorted by name.
   * @throws AppError SERVERS_SIGN_IN (a sign-in without the `guilds` scope), DISCORD_UNAVAILABLE
   */
  async listMyServers(actor: Actor): Promise<MyServer[]> {
    const shared = await this.#sharedGuilds(actor)
    const saved = await this.#o.store.getMany(shared.map((g) => g.id))
    const servers = await Promise.all(
      shared.map(async (guild): Promise<MyServer> => {
        const settings = saved.get(guild.id) ?? DEFAULT_SERVER_ROOM_SETTINGS
        return {
          id: guild.id,
          name: guild.name,
          canCreateRooms: await this.#mayCreateRooms(actor.userId, guild.id, settings),
          canManage: canManageGuild(guild),
        }
      }),
    )
    return servers.sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1))
  }

  /**
   * A server the caller may create a room in, and its settings (for the room's placement).
   * @throws AppError SERVER_NOT_ALLOWED when it is not one of {@link listMyServers}' with
   *   `canCreateRooms`
   */
  async placement(actor: Actor, guildId: string): Promise<ServerPlacement> {
    const guild = (await this.#sharedGuilds(actor)).find((g) => g.id === guildId)
    if (!guild) throw new AppError('SERVER_NOT_ALLOWED', { detail: 'not a shared server' })
    const settings = (await this.#o.store.get(guildId)) ?? DEFAULT_SERVER_ROOM_SETTINGS
    if (!(await this.#mayCreateRooms(actor.userId, guildId, settings))) {
      throw new AppError('SERVER_NOT_ALLOWED', { detail: 'rooms off, or the role is missing' })
    }
    return { guildId, settings: pickSettings(settings) }
  }

  /**
   * A server's room settings (the defaults until saved) and the roles to pick from, for a manager.
   * @throws AppError MANAGE_SERVER_REQUIRED (not the owner, no Manage Server, or not a member);
   *   SERVER_NOT_FOUND (the bot is not in it)
   */
  async getSettings(actor: Actor, guildId: string): Promise<ServerSettingsView> {
    const guild = await this.#managedGuild(actor, guildId, false)
    const [saved, roles] = await Promise.all([
      this.#o.store.get(guildId),
      this.#assignableRoles(guildId),
    ])
    return {
      guild: { id: guild.id, name: guild.name },
      settings: pickSettings(saved ?? DEFAULT_SERVER_ROOM_SETTINGS),
      roles,
      updatedAt: saved?.updatedAt ?? null,
    }
  }

  /**
   * Saves a server's room settings, after reading the caller's permissions afresh.
   * @throws AppError as {@link getSettings}; INVALID_INPUT for a role that is not one of the
   *   server's assignable roles
   */
  async saveSettings(actor: Actor, input: SaveServerSettingsInput): Promise<ServerSettingsView> {
    const { guildId } = input
    const guild = await this.#managedGuild(actor, guildId, true)
    const roles = await this.#assignableRoles(guildId)
    if (input.requiredRoleId !== null && !roles.some((r) => r.id === input.requiredRoleId)) {
      throw new AppError('INVALID_INPUT', { detail: 'not a role of this server' })
    }
    const settings = pickSettings(input)
    const updatedAt = this.#o.now()
    await this.#o.store.save({ ...settings, guildId, updatedAt, updatedBy: actor.userId })
    this.#o.logger.info({ guildId, userId: actor.userId, settings }, 'server settings saved')
    return { guild: { id: guild.id, name: guild.name }, settings, roles, updatedAt }
  }

  /** The caller's guilds that the bot is in too. */
  async #sharedGuilds(actor: Actor, fresh = false): Promise<PartialGuild[]> {
    const [mine, bot] = await Promise.all([
      this.#userGuilds.get(actor.userId, () => this.#o.discord.userGuilds(actor.accessToken), {
        fresh,
      }),
      this.#botGuilds.get('bot', () => this.#o.discord.botGuildIds(), { fresh }),
    ])
    return mine.filter((g) => bot.has(g.id))
  }

  async #managedGuild(actor: Actor, guildId: string, fresh: boolean): Promise<PartialGuild> {
    const mine = await this.#userGuilds.get(
      actor.userId,
      () => this.#o.discord.userGuilds(actor.accessToken),
      { fresh },
    )
    const guild = mine.find((g) => g.id === guildId)
    if (!guild || !canManageGuild(guild)) throw new AppError('MANAGE_SERVER_REQUIRED')
    const bot = await this.#botGuilds.get('bot', () => this.#o.discord.botGuildIds(), { fresh })
    if (!bot.has(guildId)) throw new AppError('SERVER_NOT_FOUND')
    return guild
  }

  async #mayCreateRooms(
    userId: string,
    guildId: string,
    settings: ServerRoomSettings,
  ): Promise<boolean> {
    if (!settings.roomsEnabled) return false
    const role = settings.requiredRoleId
    if (role === null) return true
    const roles = await this.#memberRoles.get(`${guildId}:${userId}`, () =>
      this.#o.discord.memberRoles(guildId, userId),
    )
    return roles?.includes(role) ?? false
  }

  /** Roles a member can be given: not @everyone (its id is the guild's), not managed ones. */
  async #assignableRoles(guildId: string): Promise<ServerRole[]> {
    const roles = await this.#o.discord.guildRoles(guildId)
    return roles
      .filter((r) => !r.managed && r.id !== guildId)
      .map((r) => ({ id: r.id, name: r.name }))
  }
}

/** The settings fields alone (a stored record also carries who saved them and when). */
function pickSettings(s: ServerRoomSettings): ServerRoomSettings {
  return {
    roomsEnabled: s.roomsEnabled,
    categoryName: s.categoryName,
    maxOpenRooms: s.maxOpenRooms,
    requiredRoleId: s.requiredRoleId,
  }
}
