import type { Redis } from 'ioredis'
import type { LeaseHolder } from './gateway-lease'
import type { ShardRef } from './keys'
import { gatewayKeys } from './keys'
import type { Handover } from './leader-term'
import { parseLeaseValue } from './lease-scripts'

/** A handover as every node sees it. */
export interface ClusterHandover extends Handover {
  readonly holderId: string
}

/** One shard's lease as last read. */
export interface ShardWatch {
  leader: LeaseHolder | null
  noLeaderSince: number | null
  handover: ClusterHandover | null
}

/**
 * Who leads each shard, as last read from Redis (every node, read-only ones too), and how often
 * that changed. Its only writer is {@link LeaderWatch.read}.
 */
export class LeaderWatch {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #watches = new Map<number, ShardWatch>()
  #leaderChanges = 0

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#prefix = prefix
  }

  /** Leader changes seen (a new holder or token, any shard) since start. */
  get leaderChanges(): number {
    return this.#leaderChanges
  }

  /** The shard's last read, or nothing known. */
  get(shardId: number): ShardWatch {
    return this.#watches.get(shardId) ?? { leader: null, noLeaderSince: null, handover: null }
  }

  /** Reads the lease and the handover of each of `shards` in one MULTI; keeps the last answer on errors. */
  async read(shards: readonly ShardRef[]): Promise<void> {
    const multi = this.#redis.multi()
    for (const shard of shards) {
      const k = gatewayKeys(this.#prefix, shard)
      multi.get(k.lease).hgetall(k.handover)
    }
    const results = await multi.exec()
    if (!results || results.some(([error]) => error)) return
    for (const [i, shard] of shards.entries()) {
      const value = parseLeaseValue(results[2 * i]?.[1])
      const w = this.#watches.get(shard.id) ?? {
        leader: null,
        noLeaderSince: Date.now(),
        handover: null,
      }
      if (value && (value.holderId !== w.leader?.holderId || value.token !== w.leader?.token)) {
        this.#leaderChanges++
      }
      w.leader = value ? { ...value, seenAt: Date.now() } : null
      w.noLeaderSince = value ? null : (w.noLeaderSince ?? Date.now())
      w.handover = parseHandover(results[2 * i + 1]?.[1]) ?? w.handover
      this.#watches.set(shard.id, w)
    }
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
