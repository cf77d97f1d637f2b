import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis, RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { GuildChange, GuildPresence, GuildVoice, ShardStatus } from '../guilds/guild-voice'
import { childLogger } from '../logging'
import type {
  CandidateStatus,
  GatewayCandidate,
  GatewayCandidateOptions,
} from './gateway-candidate'
import { createGatewayCandidate } from './gateway-candidate'
import type { LeaseHolder } from './gateway-lease'
import { GuildsMirror } from './guilds-mirror'
import type { GuildMirrorStatus } from './guilds-mirror-status'
import type { ShardRef } from './keys'
import { gatewayKeys } from './keys'
import type { Handover } from './leader-term'
import { parseLeaseValue } from './lease-scripts'
import { createClusterRedis } from './redis-connections'
import { readShardCount, settleShardCount } from './shard-count'
import type {
  MirrorSnapshot,
  MirrorStatus,
  ResyncInfo,
  VoiceEventOrigin,
} from './voice-stream-mirror'

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

/** A handover as every node sees it. */
export interface ClusterHandover extends Handover {
  readonly holderId: string
}

/** One shard as every node sees it (ShardStatus plus the lease). */
export interface ClusterShardStatus extends ShardStatus {
  leader: LeaseHolder | null
  isLeader: boolean
  /** Epoch ms since when no one holds the shard's lease (null while someone does). */
  noLeaderSince: number | null
  lastHandover: ClusterHandover | null
  /** This node's candidate for the shard (null: it does not compete for it). */
  candidate: CandidateStatus | null
}

/** What `/api/health` and `/metrics` show for the voice feed of this node. */
export interface ClusterStatus {
  /** `degraded` when a shard has no leader for longer than a lease, lags beyond the bound, a guild has no snapshot, or Redis fails. */
  health: 'ok' | 'degraded'
  /** Why it is degraded (empty when ok). */
  reasons: string[]
  /** Who holds shard 0's lease, as last read from Redis (every shard: `shards`). */
  leader: LeaseHolder | null
  /** Epoch ms since when shard 0 has no leader (null while someone leads it). */
  noLeaderSince: number | null
  /** Shard 0's leader's fencing token. */
  fencingToken: number | null
  /** This node leads at least one shard. */
  isLeader: boolean
  /**
   * The latest handover of a shard in the deployment (recorded in Redis by the leader that took
   * it, or this node's own when newer). Null before any was recorded.
   */
  lastHandover: ClusterHandover | null
  /** Leader changes this node has seen (a new holder or token, any shard), since it started. */
  leaderChanges: number
  /** This node's stream lag (all guilds: entries summed, the largest age). */
  lag: { entries: number; ms: number }
  /** All guilds' mirrors together. */
  mirror: MirrorStatus
  /** This node's candidate for shard 0 (or the first shard it competes for); null on a read-only node. */
  candidate: CandidateStatus | null
  /** The shard count in use (null before it is known). */
  shardCount: number | null
  shards: ClusterShardStatus[]
  /** Each guild this node follows. */
  guilds: GuildMirrorStatus[]
}

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

interface ShardWatch {
  leader: LeaseHolder | null
  noLeaderSince: number | null
  handover: ClusterHandover | null
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
  const halt = new AbortController()
  let candidates: GatewayCandidate[] = []
  let shardCount: number | null = options.shardCount ?? null
  const watches = new Map<number, ShardWatch>()
  let leaderChanges = 0
  let watch: NodeJS.Timeout | null = null
  let stopped = false

  const shardRefs = (): ShardRef[] => {
    const count = shardCount ?? 1
    return Array.from({ length: count }, (_, id) => ({ id, count }))
  }

  const readLeaders = async () => {
    try {
      if (options.shardCount === undefined) {
        shardCount = (await readShardCount(commands, options.prefix)) ?? shardCount
      }
      const shards = shardRefs()
      const multi = commands.multi()
      for (const shard of shards) {
        const k = gatewayKeys(options.prefix, shard)
        multi.get(k.lease).hgetall(k.handover)
      }
      const results = await multi.exec()
      if (!results || results.some(([error]) => error)) return
      for (const [i, shard] of shards.entries()) {
        const value = parseLeaseValue(results[2 * i]?.[1])
        const w = watches.get(shard.id) ?? {
          leader: null,
          noLeaderSince: Date.now(),
          handover: null,
        }
        if (value && (value.holderId !== w.leader?.holderId || value.token !== w.leader?.token)) {
          leaderChanges++
        }
        w.leader = value ? { ...value, seenAt: Date.now() } : null
        w.noLeaderSince = value ? null : (w.noLeaderSince ?? Date.now())
        w.handover = parseHandover(results[2 * i + 1]?.[1]) ?? w.handover
        watches.set(shard.id, w)
      }
    } catch {
      // Redis unreachable: the mirror reports the error; keep the last answer
    }
  }
  const scheduleWatch = () => {
    if (stopped) return
    watch = setTimeout(() => void readLeaders().finally(scheduleWatch), 1_000)
    watch.unref()
  }

  const startCandidates = async (
    candidate: Exclude<ClusteredVoiceFeedOptions['candidate'], false>,
  ): Promise<void> => {
    let count: number
    try {
      count = await settleShardCount({
        redis: commands,
        prefix: options.prefix,
        explicit: options.shardCount,
        token: candidate.token,
        apiUrl: candidate.apiUrl,
        rest: candidate.rest,
        backoff: candidate.backoff,
        clock: candidate.clock,
        random: candidate.random,
        signal: halt.signal,
        logger,
      })
    } catch (error) {
      if (!stopped) logger.error({ err: error }, 'could not settle the shard count')
      return
    }
    if (stopped) return
    shardCount = count
    const wanted = options.shardIds
    candidates = shardRefs()
      .filter((shard) => !wanted || wanted.includes(shard.id))
      .map((shard) =>
        createGatewayCandidate({
          ...candidate,
          redis: commands,
          prefix: options.prefix,
          leaseMs: options.leaseMs,
          shard,
          logger,
          deferPolls: () => spreadDefer(candidates, shard),
        }),
      )
    await startStaggered(candidates, halt.signal)
    logger.info(
      { shardCount: count, shards: candidates.map((c) => c.shard.id) },
      'competing for the gateway shards',
    )
  }

  let starting: Promise<void> = Promise.resolve()

  return {
    async start() {
      // The first reads would fail while the sockets connect (nothing waits in ioredis's queue).
      await Promise.all([connected(commands), connected(blocking)])
      await mirror.start()
      await readLeaders()
      scheduleWatch()
      if (options.candidate) starting = startCandidates(options.candidate)
    },

    async stop() {
      if (stopped) return
      stopped = true
      halt.abort()
      if (watch) clearTimeout(watch)
      await starting
      await Promise.all(candidates.map((c) => c.stop()))
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

    status() {
      const { mirror: m, guilds } = mirror.status()
      const now = Date.now()
      const reasons: string[] = []
      const refs = shardRefs()
      const shards: ClusterShardStatus[] = refs.map((shard) => {
        const w = watches.get(shard.id) ?? { leader: null, noLeaderSince: null, handover: null }
        const c = candidates.find((x) => x.shard.id === shard.id)?.status() ?? null
        // While this node leads, its lease knows better than the last read (once a second).
        const leader = c?.isLeader && c.leader ? c.leader : w.leader
        const own: ClusterHandover | null = c?.lastHandover
          ? { ...c.lastHandover, holderId: c.holderId }
          : null
        const mine = guilds.filter((g) => g.shardId === shard.id)
        const noLeaderSince = leader ? null : w.noLeaderSince
        if (!leader && noLeaderSince !== null && now - noLeaderSince > options.leaseMs) {
          reasons.push(
            refs.length === 1
              ? `no gateway leader for ${now - noLeaderSince} ms`
              : `no gateway leader for shard ${shard.id} for ${now - noLeaderSince} ms`,
          )
        }
        if (c?.alert) reasons.push(c.alert)
        return {
          id: shard.id,
          count: shard.count,
          state: c?.gateway?.state ?? 'idle',
          guilds: mine.length,
          unavailableGuilds: mine.filter((g) => !g.available).length,
          leader,
          isLeader: c?.isLeader ?? false,
          noLeaderSince,
          lastHandover: own && (!w.handover || own.token >= w.handover.token) ? own : w.handover,
          candidate: c,
        }
      })
      if (!m.ready) reasons.push('no complete voice snapshot yet')
      if (m.state === 'stale')
        reasons.push('the voice feed is gone from Redis (serving the last state)')
      if (m.lag.ms > (options.maxLagMs ?? 5_000)) reasons.push(`stream lag ${m.lag.ms} ms`)
      if (m.lastError && now - m.lastError.at < 5_000) reasons.push(`Redis: ${m.lastError.message}`)
      const first = shards[0]
      const handovers = shards
        .map((s) => s.lastHandover)
        .filter((h): h is ClusterHandover => h !== null)
      return {
        health: reasons.length === 0 ? 'ok' : 'degraded',
        reasons,
        leader: first?.leader ?? null,
        noLeaderSince: first?.noLeaderSince ?? null,
        fencingToken: first?.leader?.token ?? null,
        isLeader: shards.some((s) => s.isLeader),
        lastHandover: handovers.reduce<ClusterHandover | null>(
          (a, b) => (!a || b.at > a.at ? b : a),
          null,
        ),
        leaderChanges,
        lag: { entries: m.lag.entries, ms: m.lag.ms },
        mirror: m,
        candidate: candidates[0]?.status() ?? null,
        shardCount,
        shards,
        guilds,
      }
    },
  }
}

/** The handover hash RECORD_HANDOVER writes (HGETALL's answer), or null. */
function parseHandover(value: unknown): ClusterHandover | null {
  if (!value || typeof value !== 'object') return null
  const h = value as Record<string, string | undefined>
  const token = Number(h.token)
  const at = Number(h.at)
  const durationMs = Number(h.durationMs)
  if (!h.holderId || !Number.isSafeInteger(token) || !Number.isFinite(at)) return null
  if (h.mode !== 'resumed' && h.mode !== 'identified') return null
  return {
    holderId: h.holderId,
    token,
    at,
    durationMs: Number.isFinite(durationMs) ? durationMs : null,
    mode: h.mode,
  }
}

/** Resolves once the connection is ready, or after `timeoutMs` (the callers retry anyway). */
function connected(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      redis.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    redis.once('ready', done)
  })
}

/**
 * Spreading shards over processes: a candidate of a process that already leads another shard lets
 * two polls pass (the lease staying free) before it tries, so a process leading fewer takes it.
 */
export function spreadDefer(candidates: readonly GatewayCandidate[], shard: ShardRef): number {
  return candidates.some((c) => c.shard.id !== shard.id && c.status().state === 'leading') ? 2 : 0
}

/** Starts the candidates one after the other, 200 ms apart, so the first leads before the next polls. */
export async function startStaggered(
  candidates: readonly GatewayCandidate[],
  signal: AbortSignal,
): Promise<void> {
  for (const [i, candidate] of candidates.entries()) {
    if (signal.aborted) return
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 200).unref())
    if (signal.aborted) return
    candidate.start()
  }
}
