import type { GatewayCandidate } from './gateway-candidate'
import type { ShardRef } from './keys'

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
