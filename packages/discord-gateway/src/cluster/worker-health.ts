import type { CandidateStatus } from './gateway-candidate'
import type { ShardRef } from './keys'

/** What a gateway worker's `GET /health` answers. */
export interface WorkerHealth {
  /** 200, or 503 when degraded. */
  readonly httpStatus: 200 | 503
  readonly body: {
    status: 'ok' | 'resharding' | 'degraded'
    pid: number
    shardCount: number | null
    reshards: number
    /** How long the move to another shard count has been going on, else null. */
    reshardingForMs: number | null
    /** Every shard's candidate; shard 0's (or the first's) is also spread at the top level. */
    shards: (CandidateStatus & { shard: ShardRef })[]
  } & Partial<CandidateStatus & { shard: ShardRef }>
}

/** What the health is made of (ShardCandidates' view, read at `now`). */
export interface WorkerHealthInput {
  readonly pid: number
  readonly shardCount: number | null
  readonly reshards: number
  readonly resharding: { since: number } | null
  readonly candidates: readonly { shard: ShardRef; status(): CandidateStatus }[]
  readonly now: number
  /** How long a move to another shard count may take before it counts as degraded. */
  readonly reshardGraceMs: number
}

/**
 * Degraded (503) before the shard count is settled, when a shard's candidate stopped competing
 * or raised an alert. While the process moves to another shard count its old candidates stop
 * before the new ones run: that is `resharding` (200), for at most `reshardGraceMs`, and never
 * over an alert.
 */
export function workerHealth(input: WorkerHealthInput): WorkerHealth {
  const shards = input.candidates.map((c) => ({ shard: c.shard, ...c.status() }))
  const reshardingForMs = input.resharding ? input.now - input.resharding.since : null
  const noAlert = shards.every((s) => s.alert === null)
  const resharding = reshardingForMs !== null && reshardingForMs < input.reshardGraceMs && noAlert
  const running = shards.length > 0 && noAlert && shards.every((s) => s.state !== 'stopped')
  const status = resharding ? 'resharding' : running ? 'ok' : 'degraded'
  return {
    httpStatus: status === 'degraded' ? 503 : 200,
    body: {
      status,
      pid: input.pid,
      shardCount: input.shardCount,
      reshards: input.reshards,
      reshardingForMs,
      ...(shards[0] ?? {}),
      shards,
    },
  }
}
