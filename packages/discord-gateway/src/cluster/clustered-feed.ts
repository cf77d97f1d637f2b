import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis, RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { GuildChange, GuildPresence, GuildVoice } from '../guilds/guild-voice'
import { childLogger } from '../logging'
import type { ClusterStatus } from './cluster-status'
import { clusterStatus } from './cluster-status'
import type { GatewayCandidateOptions } from './gateway-candidate'
import { GuildsMirror } from './guilds-mirror'
import type { ShardRef } from './keys'
import { LeaderWatch } from './leader-watch'
import type { MirrorSnapshot, ResyncInfo, VoiceEventOrigin } from './mirror-contract'
import { connected, createClusterRedis } from './redis-connections'
import { ShardCandidates } from './shard-candidates'
import { readShardCount } from './shard-count'

/** Options of {@link createClusteredVoiceFeed}. */
export interface ClusteredVoiceFeedOptions {
  /** `redis://…` (or `rediss://…`); see docs/operations.md for persistence and topology. */
  redisUrl: string
  /** Extra ioredis options (TLS, Sentinel, password...). */
  redisOptions?: RedisOptions
  /** The deployment's key prefix (REDIS_PREFIX). */
  prefix: string
  /** How long a gateway lease outlives its last renewal (GATEWAY_LEASE_MS; the same on every node). */
  leaseMs: number
  /**
   * The shard count (`DISCORD_SHARD_COUNT`; the same on every node). Without it the first
   * candidate node stores GET /gateway/bot's recommendation in Redis and every node uses that.
   */
  shardCount?: number
  /** The shards this node's candidates compete for (`GATEWAY_SHARD_IDS`). @defaultValue every shard */
  shardIds?: readonly number[]
  /**
   * Run gateway candidates in this process (`GATEWAY_MODE=in-process`), one per shard, or
   * `false` to only read the streams (the gateway runs in `discord-gateway-worker` processes).
   */
  candidate:
    | false
    | Omit<GatewayCandidateOptions, 'redis' | 'prefix' | 'leaseMs' | 'logger' | 'shard'>
  /** Reader settings. @defaultValue `{ blockMs: 2000, checkMs: 1000 }` */
  mirror?: { blockMs?: number; checkMs?: number; count?: number }
  /** Lag (ms) above which status().health is degraded. @defaultValue 5_000 */
  maxLagMs?: number
  logger?: Logger
}

export type { ClusterShardStatus, ClusterStatus } from './cluster-status'
export type { ClusterHandover } from './leader-watch'

/** Every node's voice feed with Redis: the guild mirrors, and optionally gateway candidates. */
export interface ClusteredVoiceFeed extends GuildVoice {
  /** Starts the readers (resolves after their first snapshot reads) and the candidates. */
  start(): Promise<void>
  /** Stops the candidates (closing with 4200, flushing, releasing the leases), then the readers. */
  stop(): Promise<void>
  /** Every event, in stream order per guild, with its origin (`stream` entry id, or a local `resync`). */
  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void
  /** After a guild's mirror reloaded its snapshot: re-snapshot this node's browsers. */
  onResync(listener: (info: ResyncInfo) => void): () => void
  /** One guild's snapshot as this node holds it. */
  snapshot(guildId: string): MirrorSnapshot
  channelMembers(channelId: string): VoiceMember[]
  memberChannel(guildId: string, userId: string): string | null
  guilds(): GuildPresence[]
  onGuild(listener: (change: GuildChange) => void): () => void
  /** Resolves once this node holds a complete snapshot of every guild the registry lists. */
  ready(timeoutMs?: number): Promise<void>
  /** True once this node applied everything the streams held when called (false after the timeout). */
  caughtUp(timeoutMs?: number): Promise<boolean>
  status(): ClusterStatus
}

/**
 * Composes the guild mirrors and, on candidate nodes, one gateway candidate per shard over two
 * Redis connections (commands; XREAD). Also reads every shard's lease every second for health,
 * so read-only nodes know who leads too. No list of nodes anywhere.
 */
export function createClusteredVoiceFeed(options: ClusteredVoiceFeedOptions): ClusteredVoiceFeed {
  const logger = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
    component: 'voice-cluster',
  })
  const extra = { logger, ...(options.redisOptions ? { redisOptions: options.redisOptions } : {}) }
  const commands: Redis = createClusterRedis(options.redisUrl, 'commands', {
    name: 'voice-feed',
    ...extra,
  })
  const blocking: Redis = createClusterRedis(options.redisUrl, 'blocking', {
    name: 'voice-feed-reader',
    ...extra,
  })
  const mirror = new GuildsMirror({
    prefix: options.prefix,
    redis: commands,
    blocking,
    logger,
    ...options.mirror,
  })
  const candidates = options.candidate
    ? new ShardCandidates({
        redis: commands,
        prefix: options.prefix,
        leaseMs: options.leaseMs,
        explicitCount: options.shardCount,
        shardIds: options.shardIds,
        candidate: options.candidate,
        logger,
      })
    : null
  let shardCount: number | null = options.shardCount ?? null
  const leaders = new LeaderWatch(commands, options.prefix)
  let watch: NodeJS.Timeout | null = null
  let stopped = false

  const shardRefs = (): ShardRef[] => {
    const count = shardCount ?? candidates?.count ?? 1
    return Array.from({ length: count }, (_, id) => ({ id, count }))
  }

  const readLeaders = async () => {
    try {
      if (options.shardCount === undefined) {
        shardCount = (await readShardCount(commands, options.prefix)) ?? shardCount
      }
      await leaders.read(shardRefs())
    } catch {
      // Redis unreachable: the mirror reports the error; keep the last answer
    }
  }
  const scheduleWatch = () => {
    if (stopped) return
    watch = setTimeout(() => void readLeaders().finally(scheduleWatch), 1_000)
    watch.unref()
  }

  let starting: Promise<void> = Promise.resolve()

  return {
    async start() {
      // The first reads would fail while the sockets connect (nothing waits in ioredis's queue).
      await Promise.all([connected(commands), connected(blocking)])
      await mirror.start()
      await readLeaders()
      scheduleWatch()
      if (candidates) starting = candidates.start()
    },

    async stop() {
      if (stopped) return
      stopped = true
      if (watch) clearTimeout(watch)
      await candidates?.stop()
      await starting
      await mirror.stop()
      commands.disconnect()
    },

    subscribe: (listener) => mirror.subscribe(listener),
    onResync: (listener) => mirror.onResync(listener),
    onGuild: (listener) => mirror.onGuild(listener),
    guilds: () => mirror.guilds(),
    snapshot: (guildId) => mirror.snapshot(guildId),
    channelMembers: (channelId) => mirror.channelMembers(channelId),
    memberChannel: (guildId, userId) => mirror.memberChannel(guildId, userId),
    ready: (timeoutMs) => mirror.ready(timeoutMs),
    caughtUp: (timeoutMs) => mirror.caughtUp(timeoutMs),

    status: () =>
      clusterStatus({
        mirror: mirror.status(),
        shards: shardRefs(),
        shardCount: shardCount ?? candidates?.count ?? null,
        leaders,
        candidates: candidates?.list() ?? [],
        reshards: candidates?.reshards ?? 0,
        leaseMs: options.leaseMs,
        maxLagMs: options.maxLagMs ?? 5_000,
      }),
  }
}
