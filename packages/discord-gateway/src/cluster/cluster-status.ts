import type { ShardStatus } from '../guilds/guild-voice'
import type { CandidateStatus, GatewayCandidate } from './gateway-candidate'
import type { LeaseHolder } from './gateway-lease'
import type { GuildMirrorStatus } from './guilds-mirror-status'
import type { ShardRef } from './keys'
import type { ClusterHandover, LeaderWatch } from './leader-watch'
import type { MirrorStatus } from './mirror-contract'

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
  /** Times this node's gateway candidates moved to another shard count (a reshard) since it started. */
  reshards: number
  shards: ClusterShardStatus[]
  /** Each guild this node follows. */
  guilds: GuildMirrorStatus[]
}

/** What {@link clusterStatus} reads. */
export interface ClusterStatusInput {
  readonly mirror: { mirror: MirrorStatus; guilds: GuildMirrorStatus[] }
  readonly shards: readonly ShardRef[]
  readonly shardCount: number | null
  readonly leaders: LeaderWatch
  readonly candidates: readonly GatewayCandidate[]
  /** Times this node's candidates moved to another shard count. */
  readonly reshards: number
  readonly leaseMs: number
  readonly maxLagMs: number
}

/** The status of this node's feed: per shard (lease, candidate, guilds) and the health. */
export function clusterStatus(input: ClusterStatusInput): ClusterStatus {
  const { mirror: m, guilds } = input.mirror
  const { candidates } = input
  const now = Date.now()
  const reasons: string[] = []
  const refs = input.shards
  const shards: ClusterShardStatus[] = refs.map((shard) => {
    const w = input.leaders.get(shard.id)
    const c =
      candidates.find((x) => x.shard.id === shard.id && x.shard.count === shard.count)?.status() ??
      null
    // While this node leads, its lease knows better than the last read (once a second).
    const leader = c?.isLeader && c.leader ? c.leader : w.leader
    const own: ClusterHandover | null = c?.lastHandover
      ? { ...c.lastHandover, holderId: c.holderId }
      : null
    const mine = guilds.filter((g) => g.shardId === shard.id)
    const noLeaderSince = leader ? null : w.noLeaderSince
    if (!leader && noLeaderSince !== null && now - noLeaderSince > input.leaseMs) {
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
  if (m.lag.ms > input.maxLagMs) reasons.push(`stream lag ${m.lag.ms} ms`)
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
    leaderChanges: input.leaders.leaderChanges,
    lag: { entries: m.lag.entries, ms: m.lag.ms },
    mirror: m,
    candidate: candidates[0]?.status() ?? null,
    shardCount: input.shardCount,
    reshards: input.reshards,
    shards,
    guilds,
  }
}
