import { z } from 'zod'

const Snowflake = z.string().regex(/^\d{17,20}$/, 'must be a 17-20 digit snowflake')
const Bitfield = z.string().regex(/^\d{1,30}$/, 'must be a decimal bitfield string')

const OverwriteSeed = z.object({
  id: Snowflake,
  type: z.union([z.literal(0), z.literal(1)]),
  allow: Bitfield.default('0'),
  deny: Bitfield.default('0'),
})

/** Schema of a world seed (JSON file or object). */
export const WorldSeedSchema = z.object({
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
     * Whether the bot is in the guild. `false`: READY lists no guild, no GUILD_CREATE, guild
     * routes answer 10004 / 50001, and the bot's managed roles (in `roles`) are absent.
     */
    inGuild: z.boolean().default(true),
  }),
  users: z.array(
    z.object({
      id: Snowflake,
      username: z.string().min(2).max(32),
      globalName: z.string().max(32).nullable().default(null),
      avatar: z.string().nullable().default(null),
      /** Whether the user is already a member of the guild. */
      member: z.boolean().default(true),
      roles: z.array(Snowflake).default([]),
    }),
  ),
  /** Roles; the @everyone role has the guild id. */
  roles: z.array(
    z.object({
      id: Snowflake,
      name: z.string().min(1).max(100),
      permissions: Bitfield,
      position: z.number().int().min(0).default(0),
      color: z.number().int().min(0).default(0),
      managed: z.boolean().default(false),
    }),
  ),
  channels: z.array(
    z.object({
      id: Snowflake,
      name: z.string().min(1).max(100),
      type: z.union([z.literal(0), z.literal(2), z.literal(4)]),
      parentId: Snowflake.nullable().default(null),
      position: z.number().int().min(0).default(0),
      userLimit: z.number().int().min(0).max(99).default(0),
      bitrate: z.number().int().min(8000).max(384000).default(64000),
      permissionOverwrites: z.array(OverwriteSeed).default([]),
    }),
  ),
  voiceStates: z
    .array(
      z.object({
        userId: Snowflake,
        channelId: Snowflake,
        selfMute: z.boolean().default(false),
        selfDeaf: z.boolean().default(false),
      }),
    )
    .default([]),
})

/** A world seed as written by hand (defaults not yet applied). */
export type WorldSeed = z.input<typeof WorldSeedSchema>
/** A world seed with every default applied. */
export type ParsedWorldSeed = z.output<typeof WorldSeedSchema>
