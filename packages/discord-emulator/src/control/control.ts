import { z } from 'zod'
import { EmulatorError } from '../errors.ts'
import type { RestFault } from '../rest/faults.ts'
import type { RestLogEntry, Runtime } from '../runtime.ts'
import { shardOf } from '../world/sharding.ts'
import type { VoiceFlags } from '../world/world.ts'
import {
  createGuildControl,
  type GuildControl,
  type GuildState,
  guildOf,
  guildState,
  type ShardingState,
  shardingState,
} from './guild-control.ts'
import { type ApplicationSetup, createSetupControl, type SetupControl } from './setup-control.ts'

/**
 * Snapshot of the emulated world, for tests, the panel and the app's dev tooling. `guildId`,
 * `guildName`, `botInGuild`, `users[].member`, `channels` and `voiceStates` describe the default
 * guild (as before there were several); `guilds` lists every guild.
 */
export interface EmulatorState {
  guildId: string
  guildName: string
  botUserId: string
  botToken: string
  clientId: string
  clientSecret: string
  restBase: string
  webUrl: string
  gatewayUrl: string
  resumeGatewayUrl: string
  /** Whether the bot is a member of the guild. */
  botInGuild: boolean
  application: ApplicationSetup
  users: {
    id: string
    username: string
    globalName: string | null
    avatar: string | null
    bot: boolean
    member: boolean
  }[]
  channels: {
    id: string
    name: string
    type: 0 | 2 | 4
    parentId: string | null
    position: number
    userLimit: number
  }[]
  voiceStates: ({ userId: string; channelId: string } & Required<VoiceFlags>)[]
  /** Every guild, the default one first. */
  guilds: GuildState[]
  /** The sharding rules in effect and the shard count GET /gateway/bot recommends. */
  sharding: ShardingState
  stats: EmulatorStats
}

/** Gateway sessions of one `[shard_id, num_shards]`. */
export interface ShardStats {
  shard: [number, number]
  /** Sessions of this shard still known (live or resumable). */
  sessions: number
  /** Of them, sessions with a live connection. */
  activeSessions: number
  /** Guilds the bot is in whose events this shard receives. */
  guildIds: string[]
}

/** Counters useful to tests. */
export interface EmulatorStats {
  identifies: number
  resumes: number
  /** RESUMEs that took a session over from a connection still attached to it (that one was closed with 4000). */
  sessionTakeovers: number
  /** Op 1 heartbeats received from clients. */
  heartbeats: number
  /** WebSockets opened on the resume origin (READY's resume_gateway_url). */
  resumeOriginConnections: number
  /** Sessions with a live connection. */
  activeSessions: number
  /** Sessions still known (live or resumable). */
  sessions: number
  connections: number
  restRequests: number
  invalidRequests: number
  sessionStartRemaining: number
  pendingFaults: number
  /** Guilds the bot is in. */
  guilds: number
  /** GET /gateway/bot's `shards` right now. */
  recommendedShards: number
  /** Known sessions grouped by shard, ordered by shard count then id. */
  shards: ShardStats[]
}

/** Test / dev control surface (also served over HTTP under /_emulator). */
export interface EmulatorControl extends SetupControl, GuildControl {
  state(): EmulatorState
  createUser(input: { username: string; globalName?: string | null }): { id: string }
  /** Changes a user's username, display name or avatar: GUILD_MEMBER_UPDATE, and a VSU while in voice. */
  updateUserProfile(input: UpdateProfileInput): void
  /**
   * Voice in any guild: the channel names its guild; `channelId: null` leaves voice in `guildId`,
   * or wherever the user is connected when it is left out.
   */
  setVoice(input: SetVoiceInput): void
  /** Removes a member from `guildId` (default: the default guild). */
  removeMember(userId: string, guildId?: string): void
  /** Closes every connection (only those of shard `shard` when given) with `code`. */
  closeGateway(code: number, shard?: number): void
  reconnect(): void
  invalidate(resumable: boolean): void
  setHeartbeatAcks(enabled: boolean): void
  /** Op 1 to every connection: Discord asking for a heartbeat now. */
  requestHeartbeat(): void
  refuse(ms: number): void
  restart(): void
  restFault(input: RestFault): void
  reset(): void
  stats(): EmulatorStats
  /** The REST request log (newest last, at most 5000 entries). */
  restLog(): RestLogEntry[]
  /** Mints an OAuth access token for a user directly (tests), as if they had authorized with these scopes. */
  issueAccessToken(input: {
    userId: string
    scopes: string[]
    expiresInSeconds?: number
    /** Defaults to the bot's application. */
    clientId?: string
  }): { accessToken: string; refreshToken: string }
  /**
   * The user removes the application under Settings › Authorized Apps: every token of every
   * authorization they gave it stops working (API calls 401 / 50025, refresh `invalid_grant`).
   */
  deauthorize(input: { userId: string; clientId?: string }): { authorizations: number }
}

export const SnowflakeInput = z.string().regex(/^\d{17,20}$/, 'must be a snowflake string')

/** Control inputs, validated on every call (in-process and HTTP). */
const UsernameInput = z
  .string()
  .min(2)
  .max(32)
  .regex(/^[a-z0-9_.]+$/, 'lowercase letters, digits, _ and . only')

export const ControlSchemas = {
  createUser: z.object({
    username: UsernameInput,
    globalName: z.string().min(1).max(32).nullish(),
  }),
  updateUserProfile: z
    .object({
      userId: SnowflakeInput,
      username: UsernameInput.optional(),
      globalName: z.string().min(1).max(32).nullable().optional(),
      /** An avatar hash as Discord has them (`a_` for animated), or null for the default avatar. */
      avatar: z
        .string()
        .regex(/^(a_)?[0-9a-f]{32}$/, 'an avatar hash: 32 hex digits, a_ first if animated')
        .nullable()
        .optional(),
    })
    .refine(
      (d) => d.username !== undefined || d.globalName !== undefined || d.avatar !== undefined,
      'change at least one of username, globalName, avatar',
    ),
  setVoice: z.object({
    userId: SnowflakeInput,
    channelId: SnowflakeInput.nullable(),
    guildId: SnowflakeInput.optional(),
    selfMute: z.boolean().optional(),
    selfDeaf: z.boolean().optional(),
    selfVideo: z.boolean().optional(),
    selfStream: z.boolean().optional(),
    mute: z.boolean().optional(),
    deaf: z.boolean().optional(),
  }),
  removeMember: z.object({ userId: SnowflakeInput, guildId: SnowflakeInput.optional() }),
  closeGateway: z.object({
    shard: z.number().int().min(0).optional(),
    code: z
      .number()
      .int()
      .refine(
        (c) =>
          c === 1006 ||
          (c >= 1000 && c <= 1003) ||
          (c >= 1007 && c <= 1014) ||
          (c >= 3000 && c <= 4999),
        'must be 1006 (drop TCP) or a code allowed in a close frame (1000-1003, 1007-1014, 3000-4999)',
      ),
  }),
  invalidate: z.object({ resumable: z.boolean() }),
  heartbeatAcks: z.object({ enabled: z.boolean() }),
  refuse: z.object({ ms: z.number().int().min(0).max(3_600_000) }),
  restFault: z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    path: z.string().min(1).startsWith('/'),
    status: z.union([z.literal(0), z.number().int().min(400).max(599)]),
    count: z.number().int().min(1).max(10_000).optional(),
    retryAfter: z.number().min(0).max(3600).optional(),
    global: z.boolean().optional(),
    scope: z.enum(['user', 'global', 'shared']).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
  }),
  issueAccessToken: z.object({
    userId: SnowflakeInput,
    scopes: z.array(z.string().min(1)).min(1),
    expiresInSeconds: z.number().int().min(1).optional(),
    clientId: SnowflakeInput.optional(),
  }),
  deauthorize: z.object({ userId: SnowflakeInput, clientId: SnowflakeInput.optional() }),
}

export type SetVoiceInput = z.input<typeof ControlSchemas.setVoice>
export type UpdateProfileInput = z.input<typeof ControlSchemas.updateUserProfile>

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new EmulatorError('INVALID_INPUT', z.prettifyError(result.error).replace(/\n/g, '; '))
  }
  return result.data
}

/** Builds the control handle over a runtime. `resetWorld` rebuilds the world from its seed. */
export function createControl(rt: Runtime, resetWorld: () => void): EmulatorControl {
  const shardStats = (): ShardStats[] => {
    const byShard = new Map<string, ShardStats>()
    const botGuilds = rt.world.botGuilds().map((g) => g.id)
    for (const session of rt.gateway.sessions.values()) {
      const [id, count] = session.shard
      const key = `${count}:${id}`
      let entry = byShard.get(key)
      if (!entry) {
        const guildIds = botGuilds.filter((g) => shardOf(g, count) === id)
        entry = { shard: [id, count], sessions: 0, activeSessions: 0, guildIds }
        byShard.set(key, entry)
      }
      entry.sessions++
      if (session.sink !== null) entry.activeSessions++
    }
    return [...byShard.values()].sort((a, b) => a.shard[1] - b.shard[1] || a.shard[0] - b.shard[0])
  }
  const stats = (): EmulatorStats => {
    const sessions = [...rt.gateway.sessions.values()]
    return {
      identifies: rt.gateway.identifies,
      resumes: rt.gateway.resumes,
      sessionTakeovers: rt.gateway.sessionTakeovers,
      heartbeats: rt.gateway.heartbeats,
      resumeOriginConnections: rt.gateway.originConnections.resume,
      activeSessions: sessions.filter((s) => s.sink !== null).length,
      sessions: sessions.length,
      connections: rt.gateway.connections.size,
      restRequests: rt.requestLog.length,
      invalidRequests: rt.limiter.invalidCount(),
      sessionStartRemaining: rt.gateway.sessionStartLimit().remaining,
      pendingFaults: rt.faults.pending(),
      guilds: rt.world.botGuilds().length,
      recommendedShards: shardingState(rt).recommendedShards,
      shards: shardStats(),
    }
  }
  return {
    ...createSetupControl(rt),
    ...createGuildControl(rt),
    state() {
      const w = rt.world
      const g = w.defaultGuild
      const sharding = shardingState(rt)
      const others = [...w.guilds.values()].filter((x) => x !== g)
      return {
        guildId: g.id,
        guildName: g.name,
        botUserId: w.botUserId,
        botToken: w.botToken,
        clientId: w.botUserId,
        clientSecret: w.seed.application.clientSecret,
        restBase: rt.urls.restBase,
        webUrl: rt.urls.webUrl,
        gatewayUrl: rt.urls.gatewayUrl,
        resumeGatewayUrl: rt.urls.resumeUrl,
        botInGuild: g.botInGuild,
        application: {
          redirectUris: [...w.application.redirectUris],
          privilegedIntents: [...w.application.privilegedIntents],
          approximateGuildCount: w.application.approximateGuildCount,
        },
        users: [...w.users.values()].map((u) => ({ ...u, member: g.members.has(u.id) })),
        channels: [...g.channels.values()].map((c) => ({
          id: c.id,
          name: c.name,
          type: c.type,
          parentId: c.parentId,
          position: c.position,
          userLimit: c.userLimit,
        })),
        voiceStates: [...g.voice.values()].map(({ sessionId: _s, ...v }) => v),
        guilds: [g, ...others].map((x) => guildState(x, sharding.recommendedShards)),
        sharding,
        stats: stats(),
      }
    },
    createUser(input) {
      const d = parse(ControlSchemas.createUser, input)
      return { id: rt.world.createUser(d.username, d.globalName ?? null).id }
    },
    updateUserProfile(input) {
      const { userId, ...patch } = parse(ControlSchemas.updateUserProfile, input)
      rt.world.updateUserProfile(userId, patch)
    },
    setVoice(input) {
      const { userId, channelId, guildId, ...flags } = parse(ControlSchemas.setVoice, input)
      const w = rt.world
      if (!w.users.has(userId)) throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
      if (channelId === null) {
        const where = guildId === undefined ? [...w.guilds.values()] : [guildOf(rt, guildId)]
        for (const g of where) if (g.voice.has(userId)) g.setVoice(userId, null)
        return
      }
      const g = w.channelGuild(channelId)
      const isVoice = g?.channels.get(channelId)?.type === 2
      if (!g || !isVoice || (guildId !== undefined && g.id !== guildId)) {
        throw new EmulatorError('UNKNOWN_CHANNEL', `${channelId} is not a voice channel`)
      }
      if (!g.members.has(userId)) g.addMember(userId)
      g.setVoice(userId, channelId, flags)
    },
    removeMember(userId, guildId) {
      const d = parse(ControlSchemas.removeMember, { userId, guildId })
      const g = guildOf(rt, d.guildId)
      if (!g.removeMember(d.userId)) {
        throw new EmulatorError('UNKNOWN_USER', `${d.userId} is not a member`)
      }
    },
    closeGateway(code, shard) {
      const d = parse(ControlSchemas.closeGateway, { code, shard })
      rt.gateway.closeAll(d.code, d.shard)
    },
    reconnect: () => rt.gateway.reconnectAll(),
    invalidate(resumable) {
      rt.gateway.invalidateAll(parse(ControlSchemas.invalidate, { resumable }).resumable)
    },
    requestHeartbeat: () => rt.gateway.requestHeartbeats(),
    setHeartbeatAcks(enabled) {
      rt.gateway.setAcks(parse(ControlSchemas.heartbeatAcks, { enabled }).enabled)
    },
    refuse(ms) {
      rt.gateway.refuse(parse(ControlSchemas.refuse, { ms }).ms)
    },
    restart: () => rt.gateway.restart(),
    restFault(input) {
      rt.faults.add(parse(ControlSchemas.restFault, input))
    },
    reset() {
      rt.gateway.resetState()
      rt.oauth.clear()
      rt.faults.clear()
      rt.limiter.reset()
      rt.requestLog.length = 0
      resetWorld()
    },
    stats,
    restLog: () => [...rt.requestLog],
    issueAccessToken(input) {
      const d = parse(ControlSchemas.issueAccessToken, input)
      const clientId = d.clientId ?? rt.world.botUserId
      if (!rt.world.users.has(d.userId))
        throw new EmulatorError('UNKNOWN_USER', `unknown user ${d.userId}`)
      if (!rt.apps().some((a) => a.id === clientId)) {
        throw new EmulatorError('INVALID_INPUT', `unknown application ${clientId}`)
      }
      const t = rt.oauth.issue({ userId: d.userId, clientId, scopes: d.scopes }, d.expiresInSeconds)
      return { accessToken: t.access_token, refreshToken: t.refresh_token }
    },
    deauthorize(input) {
      const d = parse(ControlSchemas.deauthorize, input)
      if (!rt.world.users.has(d.userId))
        throw new EmulatorError('UNKNOWN_USER', `unknown user ${d.userId}`)
      return { authorizations: rt.oauth.deauthorize(d.userId, d.clientId ?? rt.world.botUserId) }
    },
  }
}
