import { createHash } from 'node:crypto'
import { EmulatorError } from '../errors.ts'
import { type ApplicationConfig, applicationFromSeed } from './application.ts'
import { DEFAULT_EVERYONE_PERMISSIONS } from './default-world.ts'
import type { Guild, GuildHost } from './guild.ts'
import { defaultGuildData, extraGuildData, seedGuild } from './guild-seed.ts'
import type { ParsedWorldSeed } from './seed.ts'
import { toApiUser } from './serialize.ts'
import type { ShardingConfig } from './sharding.ts'
import { makeSnowflake, SnowflakeGenerator } from './snowflake.ts'
import type { UserRecord, WorldDispatch } from './types.ts'

export type { VoiceFlags } from './guild.ts'

/** Channel limits; a benchmark may lift them. */
export interface WorldLimits {
  channelsPerGuild: number
  channelsPerCategory: number
}

/** Deterministic Discord-shaped bot token: base64(botId).<6>.<38>. */
export function defaultBotToken(botId: string): string {
  const b64 = Buffer.from(botId).toString('base64url')
  const h = createHash('sha256').update(`table-voice-emulator:${botId}`).digest('base64url')
  return `${b64}.${h.slice(0, 6)}.${h.slice(6, 44)}`
}

/** Worker id of the snowflakes minted for guilds created at run time. */
const GUILD_ID_WORKER = 8

/**
 * The in-memory Discord world: the bot and its application, the users, and the guilds. The
 * default guild (the seed's `guild`) is the one a single-server deployment uses; `guilds[]` and
 * the control API add more. Every guild mutation emits the dispatches Discord would send through
 * `onDispatch`, tagged with its guild.
 */
export class World implements GuildHost {
  /** The default guild's id. */
  readonly guildId: string
  /** The application's owner (the default guild's owner). */
  readonly ownerId: string
  readonly botUserId: string
  /** The bot's current token (a reset through the control API replaces it). */
  botToken: string
  /** The application as configured in the "Developer Portal". */
  readonly application: ApplicationConfig
  readonly users = new Map<string, UserRecord>()
  readonly guilds = new Map<string, Guild>()
  /** The gateway's sharding rules (the seed's `sharding`, options and control calls). */
  readonly sharding: ShardingConfig
  readonly ids = new SnowflakeGenerator()
  #lastGuildMs = 0
  onDispatch: (event: WorldDispatch) => void = () => {}

  constructor(
    readonly seed: ParsedWorldSeed,
    readonly limits: WorldLimits,
    sharding: Partial<ShardingConfig> = {},
  ) {
    this.guildId = seed.guild.id
    this.ownerId = seed.guild.ownerId
    this.botUserId = seed.bot.id
    this.botToken = seed.bot.token ?? defaultBotToken(seed.bot.id)
    this.application = applicationFromSeed(seed)
    this.sharding = { ...seed.sharding, ...sharding }
    const joinedAt = new Date(Date.UTC(2021, 4, 12, 18, 31)).toISOString()
    this.users.set(seed.bot.id, {
      id: seed.bot.id,
      username: seed.bot.username,
      globalName: null,
      avatar: null,
      bot: true,
    })
    for (const u of seed.users) {
      this.users.set(u.id, {
        id: u.id,
        username: u.username,
        globalName: u.globalName,
        avatar: u.avatar,
        bot: false,
      })
    }
    seedGuild(this, defaultGuildData(seed), joinedAt)
    for (const g of seed.guilds) {
      seedGuild(this, extraGuildData(g, DEFAULT_EVERYONE_PERMISSIONS), joinedAt)
    }
  }

  /** The default guild (the seed's `guild`). */
  get defaultGuild(): Guild {
    const g = this.guilds.get(this.guildId)
    if (!g) throw new EmulatorError('INVALID_WORLD', 'the default guild is missing')
    return g
  }

  /** A guild by id. */
  guild(guildId: string): Guild | undefined {
    return this.guilds.get(guildId)
  }

  /** The guild a channel belongs to (channel ids are unique across Discord). */
  channelGuild(channelId: string): Guild | undefined {
    for (const g of this.guilds.values()) if (g.channels.has(channelId)) return g
    return undefined
  }

  /** The guild a role belongs to. */
  roleGuild(roleId: string): Guild | undefined {
    for (const g of this.guilds.values()) if (g.roles.has(roleId)) return g
    return undefined
  }

  /** The guilds the bot is a member of, by id. */
  botGuilds(): Guild[] {
    return [...this.guilds.values()].filter((g) => g.botInGuild)
  }

  /** The guilds a user is a member of. */
  userGuilds(userId: string): Guild[] {
    return [...this.guilds.values()].filter((g) => g.members.has(userId))
  }

  apiUser(userId: string) {
    const u = this.users.get(userId)
    return u ? toApiUser(u) : null
  }

  createUser(username: string, globalName: string | null): UserRecord {
    const user: UserRecord = { id: this.ids.next(), username, globalName, avatar: null, bot: false }
    this.users.set(user.id, user)
    return user
  }

  /**
   * Changes a user's profile (username, global display name, avatar hash), as when they edit it in
   * Discord. Every guild they are a member of reports it to the bot as GUILD_MEMBER_UPDATE
   * (GUILD_MEMBERS intent); a guild where they are in voice follows it with a VOICE_STATE_UPDATE
   * carrying the new `member` (voice states intent).
   */
  updateUserProfile(
    userId: string,
    patch: Partial<Pick<UserRecord, 'username' | 'globalName' | 'avatar'>>,
  ): void {
    const user = this.users.get(userId)
    if (!user) throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
    Object.assign(user, patch)
    for (const guild of this.userGuilds(userId)) guild.profileChanged(userId)
  }

  /**
   * A snowflake for a new guild: the first at the current time, each next one exactly 1 ms after
   * the previous one, however long apart they are created. Guilds then spread over the shards
   * round robin (`(id >> 22) % num_shards` reads the timestamp), the same way on a busy machine
   * as on an idle one, so a test's shard layout never depends on timing; ids minted in one
   * millisecond would instead all land on one shard.
   */
  nextGuildId(): string {
    for (;;) {
      this.#lastGuildMs = this.#lastGuildMs === 0 ? Date.now() : this.#lastGuildMs + 1
      const id = makeSnowflake(this.#lastGuildMs, GUILD_ID_WORKER, 0)
      if (!this.guilds.has(id)) return id
    }
  }
}
