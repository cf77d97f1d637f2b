import { z } from 'zod'

const Snowflake = z.string().regex(/^\d{17,20}$/, 'must be a 17-20 digit snowflake')
const Bitfield = z.string().regex(/^\d{1,30}$/, 'must be a decimal bitfield string')

const OverwriteSeed = z.object({
  id: Snowflake,
  type: z.union([z.literal(0), z.literal(1)]),
  allow: Bitfield.default('0'),
  deny: Bitfield.default('0'),
})

const RoleSeed = z.object({
  id: Snowflake,
  name: z.string().min(1).max(100),
  permissions: Bitfield,
  position: z.number().int().min(0).default(0),
  color: z.number().int().min(0).default(0),
  managed: z.boolean().default(false),
})

const ChannelSeed = z.object({
  id: Snowflake,
  name: z.string().min(1).max(100),
  type: z.union([z.literal(0), z.literal(2), z.literal(4)]),
  parentId: Snowflake.nullable().default(null),
  position: z.number().int().min(0).default(0),
  userLimit: z.number().int().min(0).max(99).default(0),
  bitrate: z.number().int().min(8000).max(384000).default(64000),
  permissionOverwrites: z.array(OverwriteSeed).default([]),
})

const VoiceStateSeed = z.object({
  userId: Snowflake,
  channelId: Snowflake,
  selfMute: z.boolean().default(false),
  selfDeaf: z.boolean().default(false),
})

/**
 * A guild besides the default one (world field `guilds[]`). Its @everyone role (id = guild id)
 * is added with Discord's default permissions when `roles` does not list it.
 */
export const GuildSeedSchema = z.object({
  id: Snowflake,
  name: z.string().min(2).max(100),
  /** A user of `users` (always a member). */
  ownerId: Snowflake,
  /** Whether the bot is in this guild. */
  botInGuild: z.boolean().default(true),
  /** The bot's roles here; a `managed` one is its integration role (exists only while it is in). */
  botRoles: z.array(Snowflake).default([]),
  /** Members besides the owner and the bot. */
  members: z
    .array(
      z.object({
        userId: Snowflake,
        roles: z.array(Snowflake).default([]),
        nick: z.string().min(1).max(32).nullable().default(null),
      }),
    )
    .default([]),
  roles: z.array(RoleSeed).default([]),
  channels: z.array(ChannelSeed).default([]),
  voiceStates: z.array(VoiceStateSeed).default([]),
  /** `false`: the guild starts in an outage (READY lists it, GUILD_DELETE `unavailable: true`). */
  available: z.boolean().default(true),
})

/** Schema of a world seed (JSON file or object). */
export const WorldSeedSchema = z.object({
  /** The default guild (`users[].member`, `roles`, `channels` and `voiceStates` describe it). */
  guild: z.object({ id: Snowflake, name: z.string().min(2).max(100), ownerId: Snowflake }),
  application: z.object({
    /** OAuth2 client secret of the bot's application (client id = bot user id). */
    clientSecret: z.string().min(8),
    name: z.string().min(1),
    description: z.string().max(400).default(''),
    /** Privileged intents enabled in the "Developer Portal". */
    privilegedIntents: z
      .array(z.enum(['GUILD_MEMBERS', 'GUILD_PRESENCES', 'MESSAGE_CONTENT']))
      .default(['GUILD_MEMBERS']),
    /**
     * Registered OAuth2 redirect URIs (GET /applications/@me `redirect_uris`). When the list is
     * empty, /oauth2/authorize also accepts any http(s) URI on localhost / 127.0.0.1 / [::1] (a
     * development convenience); when it lists any, only those are accepted, as on Discord.
     */
    redirectUris: z.array(z.string().url()).default([]),
    /** Servers the app is in; 100 or more switches the intent flags to the unlimited ones. */
    approximateGuildCount: z.number().int().min(0).default(1),
    /** "Public Bot" on the Bot page. */
    botPublic: z.boolean().default(true),
    /** "Requires OAuth2 Code Grant" on the Bot page. */
    botRequireCodeGrant: z.boolean().default(false),
  }),
  /** Other OAuth2 applications (their tokens must not work for the bot's application). */
  extraApplications: z
    .array(z.object({ id: Snowflake, clientSecret: z.string().min(8), name: z.string() }))
    .default([]),
  bot: z.object({
    id: Snowflake,
    username: z.string().min(2).max(32),
    /** Defaults to a deterministic token derived from the bot id. */
    token: z.string().optional(),
    roles: z.array(Snowflake).default([]),
    /**
     * Whether the bot is in the default guild. `false`: READY lists no guild, no GUILD_CREATE,
     * guild routes answer 10004 / 50001, and the bot's managed roles (in `roles`) are absent.
     */
    inGuild: z.boolean().default(true),
  }),
  users: z.array(
    z.object({
      id: Snowflake,
      username: z.string().min(2).max(32),
      globalName: z.string().max(32).nullable().default(null),
      avatar: z.string().nullable().default(null),
      /** Whether the user is already a member of the default guild. */
      member: z.boolean().default(true),
      /** Their roles in the default guild. */
      roles: z.array(Snowflake).default([]),
    }),
  ),
  /** Roles of the default guild; the @everyone role has the guild id. */
  roles: z.array(RoleSeed),
  /** Channels of the default guild. */
  channels: z.array(ChannelSeed),
  /** Voice states in the default guild. */
  voiceStates: z.array(VoiceStateSeed).default([]),
  /** More guilds (ids, channel ids and role ids unique across the world). */
  guilds: z.array(GuildSeedSchema).default([]),
  /** Discord's sharding rules as the gateway applies them (options of `startEmulator` win). */
  sharding: z
    .object({
      /** Most guilds one shard may hold; IDENTIFY over it closes 4011. Discord: 2500. */
      guildsPerShard: z.number().int().min(1).default(2500),
      /** `session_start_limit.max_concurrency`: identify buckets, one IDENTIFY per 5 s each. */
      maxConcurrency: z.number().int().min(1).max(1024).default(1),
    })
    .default({ guildsPerShard: 2500, maxConcurrency: 1 }),
})

/** A world seed as written by hand (defaults not yet applied). */
export type WorldSeed = z.input<typeof WorldSeedSchema>
/** A world seed with every default applied. */
export type ParsedWorldSeed = z.output<typeof WorldSeedSchema>
/** A guild seed with every default applied. */
export type ParsedGuildSeed = z.output<typeof GuildSeedSchema>
/** A role, channel and voice state of a seed. */
export type RoleSeedData = z.output<typeof RoleSeed>
export type ChannelSeedData = z.output<typeof ChannelSeed>
export type VoiceStateSeedData = z.output<typeof VoiceStateSeed>
