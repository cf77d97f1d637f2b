/**
 * Capped exponential backoff with full jitter: the one retry schedule of the project. The gateway
 * reconnects with it, Discord REST retries transient failures with it, and browsers reconnect to
 * `/api/ws` with it (the presence protocol documents the client's schedule, which is why it lives
 * with the contracts: it is browser-safe and both sides read the same numbers).
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ (full jitter)
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry; it doubles with each retry. */
  readonly baseMs: number
  /** The largest ceiling. */
  readonly maxMs: number
  /** The smallest delay: the jitter is drawn in [minMs, ceiling). @defaultValue 0 */
  readonly minMs?: number
}

/** The gateway's schedule: 1, 2, 4, 8, 16, 30, 30... s ceilings, from 0. */
export const GATEWAY_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const satisfies BackoffPolicy

/** A browser's reconnect schedule for `/api/ws`: from 500 ms, ceilings doubling to 20 s. */
export const CLIENT_RECONNECT_BACKOFF = {
  baseMs: 500,
  maxMs: 20_000,
  minMs: 500,
} as const satisfies BackoffPolicy

/** The ceiling of retry `retry` (1 = the first retry): baseMs * 2^(retry-1), capped at maxMs; 0 before the first. */
export function backoffCeiling(retry: number, policy: BackoffPolicy): number {
  if (retry < 1) return 0
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retry - 1, 30))
}

/**
 * The delay before retry `retry`: uniform in [minMs, ceiling), whole milliseconds.
 * @param rand - a number in [0, 1) (injected, so callers and tests control the draw)
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, rand: number): number {
  const ceiling = backoffCeiling(retry, policy)
  const min = Math.min(policy.minMs ?? 0, ceiling)
  return Math.floor(min + rand * (ceiling - min))
}
