import {
  type DiscordRest,
  discordCode,
  discordStatus,
  toDiscordFailure,
  withDiscordRetry,
} from '@repo/discord-integration'
import {
  type APIChannel,
  type APIUser,
  ChannelType,
  OverwriteType,
  PermissionFlagsBits,
  type RESTPostAPIGuildChannelJSONBody,
  Routes,
} from 'discord-api-types/v10'
import type { Logger } from 'pino'

const bits = (...flags: bigint[]): string => flags.reduce((a, b) => a | b, 0n).toString()

/** @everyone: may neither see nor join a room channel. */
export const EVERYONE_DENY = bits(PermissionFlagsBits.ViewChannel, PermissionFlagsBits.Connect)
/** A player: see, join, talk and go live. */
export const PLAYER_ALLOW = bits(
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.Connect,
  PermissionFlagsBits.Speak,
  PermissionFlagsBits.Stream,
)
/** A spectator: see and join the channel, and listen only. */
export const SPECTATOR_ALLOW = bits(PermissionFlagsBits.ViewChannel, PermissionFlagsBits.Connect)
/** A spectator may neither talk nor turn on their camera or a stream ("Video" in Discord). */
export const SPECTATOR_DENY = bits(PermissionFlagsBits.Speak, PermissionFlagsBits.Stream)
/** The bot: see and join the channel (needed to move people in) and move members. */
export const BOT_ALLOW = bits(
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.Connect,
  PermissionFlagsBits.MoveMembers,
)

/**
 * What the bot must hold in the guild: it creates and deletes channels and categories,
 * writes permission overwrites (Manage Roles), may only grant what it holds itself
 * (View, Connect, Speak, Video for players), moves members, and adds users to the
 * guild with their OAuth token (Create Instant Invite). The setup checks (`pnpm doctor` and the
 * server's start-up check, src/server/setup-checks.server.ts) require these in the guild and on the
 * room categories, and the bot's install link asks for exactly these.
 */
export const REQUIRED_BOT_PERMISSIONS = [
  'ViewChannel',
  'ManageChannels',
  'ManageRoles',
  'Connect',
  'Speak',
  'Stream',
  'MoveMembers',
  'CreateInstantInvite',
] as const satisfies readonly (keyof typeof PermissionFlagsBits)[]

/** A channel as the rooms layer needs to know it. */
export interface GuildChannelInfo {
  id: string
  type: number
  name: string
  parentId: string | null
}

/** Everything the room service asks of Discord. Implemented over REST; tests use the emulator. */
export interface DiscordRoomsPort {
  readonly guildId: string
  createCategory(name: string): Promise<string>
  /** Creates a private voice channel with the owner's overwrite included (one call). */
  createRoomChannel(input: { name: string; parentId: string; ownerId: string }): Promise<string>
  /** Deletes a channel; an already-deleted channel is success. */
  deleteChannel(channelId: string): Promise<void>
  /** PUT /channels/{id}/permissions/{user}: lets a player see and join. */
  allowMember(channelId: string, userId: string): Promise<void>
  /** PUT /channels/{id}/permissions/{user}: lets a spectator see, join and listen, not talk or show video. */
  allowSpectator(channelId: string, userId: string): Promise<void>
  /** PATCH /channels/{id} `user_limit`: the players' four seats plus the spectators watching. */
  setUserLimit(channelId: string, limit: number): Promise<void>
  /** DELETE /channels/{id}/permissions/{user}; missing overwrite or channel is success. */
  removeMember(channelId: string, userId: string): Promise<void>
  /**
   * Moves a user already in voice (PATCH member channel_id); null disconnects.
   * 40032 (not in voice) is a normal outcome.
   */
  moveMember(userId: string, channelId: string | null): Promise<'moved' | 'not_in_voice'>
  /** PUT /guilds/{g}/members/{u} with the user's OAuth token (needs guilds.join). */
  addGuildMember(userId: string, accessToken: string): Promise<'added' | 'already_member'>
  listChannels(): Promise<GuildChannelInfo[]>
}

/**
 * Discord per guild: the rooms layer reaches a room's Discord side through its guild
 * (`forGuild(room.guildId)`); channel ids are global, guild calls (members, channels, moves) are
 * the guild's.
 */
export interface DiscordGuilds<Port = DiscordRoomsPort> {
  forGuild(guildId: string): Port
}

/**
 * The REST implementation: every call goes through the one REST instance and
 * {@link withDiscordRetry}; failures become AppErrors with sanitised messages. One instance per
 * guild; `forGuild` hands out the others (sharing the REST client and the bot's id).
 */
export class RestDiscordRooms implements DiscordRoomsPort, DiscordGuilds {
  readonly guildId: string
  readonly #rest: DiscordRest
  readonly #logger: Logger
  /** The same object in every guild's instance. */
  #shared: { botUserId: Promise<string> | null; guilds: Map<string, RestDiscordRooms> }

  constructor(options: { rest: DiscordRest; guildId: string; logger: Logger }) {
    this.#rest = options.rest
    this.guildId = options.guildId
    this.#logger = options.logger
    this.#shared = { botUserId: null, guilds: new Map([[options.guildId, this]]) }
  }

  forGuild(guildId: string): RestDiscordRooms {
    let guild = this.#shared.guilds.get(guildId)
    if (!guild) {
      guild = new RestDiscordRooms({ rest: this.#rest, guildId, logger: this.#logger })
      guild.#shared = this.#shared
      this.#shared.guilds.set(guildId, guild)
    }
    return guild
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withDiscordRetry(call, { logger: this.#logger, what })
    } catch (error) {
      this.#logger.warn(
        { what, status: discordStatus(error), code: discordCode(error) },
        'discord call failed',
      )
      throw toDiscordFailure(error)
    }
  }

  #botId(): Promise<string> {
    this.#shared.botUserId ??= this.#call('get bot user', async () => {
      const user = (await this.#rest.get(Routes.user())) as APIUser
      return user.id
    }).catch((error: unknown) => {
      this.#shared.botUserId = null
      throw error
    })
    return this.#shared.botUserId
  }

  async createCategory(name: string): Promise<string> {
    const botId = await this.#botId()
    const body: RESTPostAPIGuildChannelJSONBody = {
      name,
      type: ChannelType.GuildCategory,
      permission_overwrites: [
        { id: this.guildId, type: OverwriteType.Role, deny: EVERYONE_DENY },
        { id: botId, type: OverwriteType.Member, allow: BOT_ALLOW },
      ],
    }
    const channel = await this.#call(
      'create category',
      () =>
        this.#rest.post(Routes.guildChannels(this.guildId), {
          body,
          reason: 'Table Voice rooms',
        }) as Promise<APIChannel>,
    )
    return channel.id
  }

  async createRoomChannel(input: {
    name: string
    parentId: string
    ownerId: string
  }): Promise<string> {
    const botId = await this.#botId()
    const body: RESTPostAPIGuildChannelJSONBody = {
      name: input.name,
      type: ChannelType.GuildVoice,
      user_limit: 4,
      parent_id: input.parentId,
      permission_overwrites: [
        { id: this.guildId, type: OverwriteType.Role, deny: EVERYONE_DENY },
        { id: botId, type: OverwriteType.Member, allow: BOT_ALLOW },
        { id: input.ownerId, type: OverwriteType.Member, allow: PLAYER_ALLOW },
      ],
    }
    const channel = await this.#call(
      'create room channel',
      () =>
        this.#rest.post(Routes.guildChannels(this.guildId), {
          body,
          reason: 'Table Voice room',
        }) as Promise<APIChannel>,
    )
    return channel.id
  }

  async deleteChannel(channelId: string): Promise<void> {
    try {
      await withDiscordRetry(() => this.#rest.delete(Routes.channel(channelId)), {
        logger: this.#logger,
        what: 'delete channel',
      })
    } catch (error) {
      if (discordCode(error) === 10003 || discordStatus(error) === 404) return
      throw toDiscordFailure(error)
    }
  }

  async allowMember(channelId: string, userId: string): Promise<void> {
    await this.#call('allow member', () =>
      this.#rest.put(Routes.channelPermission(channelId, userId), {
        body: { type: OverwriteType.Member, allow: PLAYER_ALLOW, deny: '0' },
      }),
    )
  }

  async allowSpectator(channelId: string, userId: string): Promise<void> {
    await this.#call('allow spectator', () =>
      this.#rest.put(Routes.channelPermission(channelId, userId), {
        body: { type: OverwriteType.Member, allow: SPECTATOR_ALLOW, deny: SPECTATOR_DENY },
      }),
    )
  }

  async setUserLimit(channelId: string, limit: number): Promise<void> {
    await this.#call('set user limit', () =>
      this.#rest.patch(Routes.channel(channelId), { body: { user_limit: limit } }),
    )
  }

  async removeMember(channelId: string, userId: string): Promise<void> {
    try {
      await withDiscordRetry(() => this.#rest.delete(Routes.channelPermission(channelId, userId)), {
        logger: this.#logger,
        what: 'remove member overwrite',
      })
    } catch (error) {
      if (discordStatus(error) === 404) return
      throw toDiscordFailure(error)
    }
  }

  async moveMember(userId: string, channelId: string | null): Promise<'moved' | 'not_in_voice'> {
    try {
      await withDiscordRetry(
        () =>
          this.#rest.patch(Routes.guildMember(this.guildId, userId), {
            body: { channel_id: channelId },
          }),
        { logger: this.#logger, what: 'move member' },
      )
      return 'moved'
    } catch (error) {
      // 40032: the user left voice between our check and the move. 10007: not a member.
      if (discordCode(error) === 40032 || discordCode(error) === 10007) return 'not_in_voice'
      throw toDiscordFailure(error)
    }
  }

  async addGuildMember(userId: string, accessToken: string): Promise<'added' | 'already_member'> {
    const result = await this.#call('add guild member', () =>
      this.#rest.put(Routes.guildMember(this.guildId, userId), {
        body: { access_token: accessToken },
      }),
    )
    // 201 returns the member; 204 (already a member) has no body.
    return result && typeof result === 'object' && 'user' in result ? 'added' : 'already_member'
  }

  async listChannels(): Promise<GuildChannelInfo[]> {
    const channels = await this.#call(
      'list channels',
      () => this.#rest.get(Routes.guildChannels(this.guildId)) as Promise<APIChannel[]>,
    )
    return channels.map((c) => ({
      id: c.id,
      type: c.type,
      name: 'name' in c && c.name ? c.name : '',
      parentId: 'parent_id' in c ? (c.parent_id ?? null) : null,
    }))
  }
}
