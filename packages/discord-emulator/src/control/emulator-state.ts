import type { Runtime } from '../runtime.ts'
import { shardOf } from '../world/sharding.ts'
import type { VoiceFlags } from '../world/world.ts'
import { type GuildState, guildState, type ShardingState, shardingState } from './guild-control.ts'
import type { ApplicationSetup } from './setup-control.ts'

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

/** The runtime's known gateway sessions, grouped by shard. */
function shardStats(rt: Runtime): ShardStats[] {
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

/** The runtime's counters. */
export function emulatorStats(rt: Runtime): EmulatorStats {
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
    shards: shardStats(rt),
  }
}

/** The snapshot of the emulated world. */
export function emulatorState(rt: Runtime): EmulatorState {
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
    stats: emulatorStats(rt),
  }
}
