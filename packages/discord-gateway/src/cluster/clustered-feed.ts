import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis, RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { childLogger } from '../logging'
import type { VoiceReadApi } from '../voice/voice-mirror'
import type {
  CandidateStatus,
  GatewayCandidate,
  GatewayCandidateOptions,
} from './gateway-candidate'
import { createGatewayCandidate } from './gateway-candidate'
import type { LeaseHolder } from './gateway-lease'
import type { ShardRef } from './keys'
import { gatewayKeys, ONE_SHARD, voiceFeedKeys } from './keys'
import type { Handover } from './leader-term'
import { parseLeaseValue } from './lease-scripts'
import { createClusterRedis } from './redis-connections'
import type {
  MirrorSnapshot,
  MirrorStatus,
  ResyncInfo,
  VoiceEventOrigin,
} from './voice-stream-mirror'
import { VoiceStreamMirror } from './voice-stream-mirror'

/** Options of {@link createClusteredVoiceFeed}. */
export interface ClusteredVoiceFeedOptions {
  /** `redis://…` (or `rediss://…`); see docs/operations.md for persistence and topology. */
  redisUrl: string
  /** Extra ioredis options (TLS, Sentinel, password...). */
  redisOptions?: RedisOptions
  /** The deployment's key prefix (REDIS_PREFIX). */
  prefix: string
  guildId: string
  /** How long the gateway lease outlives its last renewal (GATEWAY_LEASE_MS; the same on every node). */
  leaseMs: number
  /**
   * Run a gateway candidate in this process (`GATEWAY_MODE=in-process`), or `false` to only read
   * the stream (the gateway runs in `discord-gateway-worker` processes).
   */
  candidate:
    | false
    | Omit<GatewayCandidateOptions, 'redis' | 'prefix' | 'guildId' | 'leaseMs' | 'logger' | 'shard'>
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

/** What `/api/health` and `/metrics` show for the voice feed of this node. */
export interface ClusterStatus {
  /** `degraded` when the feed has no leader for longer than a lease, lags beyond the bound, has no snapshot, or Redis fails. */
  health: 'ok' | 'degraded'
  /** Why it is degraded (empty when ok). */
  reasons: string[]
  /** Who holds the gateway lease, as last read from Redis. */
  leader: LeaseHolder | null
  /** Epoch ms since when no one holds the lease (null while someone does). */
  noLeaderSince: number | null
  /** The leader's fencing token. */
  fencingToken: number | null
  /** This node leads the gateway. */
  isLeader: boolean
  /**
   * The latest handover of the gateway in the deployment (recorded in Redis by the leader that
   * took it, or this node's own when newer): who, when, how long from taking the lease to
   * READY/RESUMED, resumed or identified. Null before any was recorded.
   */
  lastHandover: ClusterHandover | null
  /** Leader changes this node has seen (a new holder or token), since it started. */
  leaderChanges: number
  /** This node's stream lag. */
  lag: { entries: number; ms: number }
  mirror: MirrorStatus
  /** Null on a read-only node. */
  candidate: CandidateStatus | null
}

/** Every node's voice feed with Redis: the stream mirror, and optionally a gateway candidate. */
export interface ClusteredVoiceFeed extends Omit<VoiceReadApi, 'memberChannel'> {
  /** Starts the reader (resolves after its first snapshot read) and the candidate. */
  start(): Promise<void>
  /** Stops the candidate (closing with 4200, flushing, releasing the lease), then the reader. */
  stop(): Promise<void>
  /** Every event, in stream order, with its origin (`stream` entry id, or a local `resync`). */
  subscribe(listener: (event: VoiceEvent, origin: VoiceEventOrigin) => void): () => void
  /** After the mirror reloaded the snapshot: re-snapshot this node's browsers. */
  onResync(listener: (info: ResyncInfo) => void): () => void
  snapshot(): MirrorSnapshot
  channelMembers(channelId: string): VoiceMember[]
  /** The channel `userId` is in within `guildId`, or null. */
  memberChannel(guildId: string, userId: string): string | null
  /** Resolves once this node holds a complete snapshot. */
  ready(timeoutMs?: number): Promise<void>
  /** True once this node applied everything the stream held when called (false after the timeout). */
  caughtUp(timeoutMs?: number): Promise<boolean>
  status(): ClusterStatus
}

/**
 * Composes the reader and, on candidate nodes, the gateway candidate over two Redis connections
 * (commands; XREAD). Also reads the lease every second for health, so read-only nodes know who
 * leads too. No list of nodes anywhere.
 */
export function createClusteredVoiceFeed(options: ClusteredVoiceFeedOptions): ClusteredVoiceFeed {
  const logger = childLogger(options.logger ?? pino({ name: 'discord-gateway' }), {
    component: 'voice-cluster',
    guildId: options.guildId,
  })
  const shard: ShardRef = ONE_SHARD
  const extra = { logger, ...(options.redisOptions ? { redisOptions: options.redisOptions } : {}) }
  const commands: Redis = createClusterRedis(options.redisUrl, 'commands', {
    name: 'voice-feed',
    ...extra,
  })
  const blocking: Redis = createClusterRedis(options.redisUrl, 'blocking', {
    name: 'voice-feed-reader',
    ...extra,
  })
  const mirror = new VoiceStreamMirror({
    guildId: options.guildId,
    keys: voiceFeedKeys(options.prefix, options.guildId),
    redis: commands,
    blocking,
    logger,
    ...options.mirror,
  })
  const candidate: GatewayCandidate | null = options.candidate
    ? createGatewayCandidate({
        ...options.candidate,
        redis: commands,
        prefix: options.prefix,
        guildId: options.guildId,
        leaseMs: options.leaseMs,
        shard,
        logger,
      })
    : null
  const keys = gatewayKeys(options.prefix, shard)
  let leader: LeaseHolder | null = null
  let noLeaderSince: number | null = Date.now()
  let handover: ClusterHandover | null = null
  let leaderChanges = 0
  let watch: NodeJS.Timeout | null = null
  let stopped = false

  const readLeader = async () => {
    try {
      const results = await commands.multi().get(keys.lease).hgetall(keys.handover).exec()
      if (!results || results.some(([error]) => error)) return
      const value = parseLeaseValue(results[0]?.[1])
      if (value && (value.holderId !== leader?.holderId || value.token !== leader?.token)) {
        leaderChanges++
      }
      leader = value ? { ...value, seenAt: Date.now() } : null
      noLeaderSince = value ? null : (noLeaderSince ?? Date.now())
      handover = parseHandover(results[1]?.[1]) ?? handover
    } catch {
      // Redis unreachable: the mirror reports the error; keep the last answer
    }
  }
  const scheduleWatch = () => {
    if (stopped) return
    watch = setTimeout(() => void readLeader().finally(scheduleWatch), 1_000)
    watch.unref()
  }

  return {
    async start() {
      // The first reads would fail while the sockets connect (nothing waits in ioredis's queue).
      await Promise.all([connected(commands), connected(blocking)])
      await mirror.start()
      await readLeader()
      scheduleWatch()
      candidate?.start()
    },

    async stop() {
      if (stopped) return
      stopped = true
      if (watch) clearTimeout(watch)
      await candidate?.stop()
      await mirror.stop()
      commands.disconnect()
    },

    subscribe: (listener) => mirror.subscribe(listener),
    onResync: (listener) => mirror.onResync(listener),
    snapshot: () => mirror.snapshot(),
    channelMembers: (channelId) => mirror.channelMembers(channelId),
    memberChannel: (guildId, userId) =>
      guildId === options.guildId ? mirror.memberChannel(userId) : null,
    ready: (timeoutMs) => mirror.ready(timeoutMs),
    caughtUp: (timeoutMs) => mirror.caughtUp(timeoutMs),

    status() {
      const m = mirror.status()
      const c = candidate?.status() ?? null
      // While this node leads, its lease knows better than the last read (once a second).
      const current = c?.isLeader && c.leader ? c.leader : leader
      const own: ClusterHandover | null =
        c?.lastHandover && candidate ? { ...c.lastHandover, holderId: candidate.holderId } : null
      const now = Date.now()
      const reasons: string[] = []
      if (!current && noLeaderSince !== null && now - noLeaderSince > options.leaseMs) {
        reasons.push(`no gateway leader for ${now - noLeaderSince} ms`)
      }
      if (!m.ready) reasons.push('no complete voice snapshot yet')
      if (m.state === 'stale')
        reasons.push('the voice feed is gone from Redis (serving the last state)')
      if (m.lag.ms > (options.maxLagMs ?? 5_000)) reasons.push(`stream lag ${m.lag.ms} ms`)
      if (m.lastError && now - m.lastError.at < 5_000) reasons.push(`Redis: ${m.lastError.message}`)
      if (c?.alert) reasons.push(c.alert)
      return {
        health: reasons.length === 0 ? 'ok' : 'degraded',
        reasons,
        leader: current,
        noLeaderSince: current ? null : noLeaderSince,
        fencingToken: current?.token ?? null,
        isLeader: c?.isLeader ?? false,
        lastHandover: own && (!handover || own.token >= handover.token) ? own : handover,
        leaderChanges,
        lag: { entries: m.lag.entries, ms: m.lag.ms },
        mirror: m,
        candidate: c,
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
