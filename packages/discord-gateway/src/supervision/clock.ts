import { sleep } from './backoff'

/**
 * The connection's time: every wait it decides on (backoff, identify spacing, the budget breaker,
 * GET /gateway/bot retries) and the instants it compares (the watchdog's silence, identify
 * spacing). Handed in, so tests can let the waits pass at once and check how long they were.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Resolves after `ms`; rejects when `signal` aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

export const systemClock: Clock = { now: () => Date.now(), sleep }

/** Milliseconds since the epoch with sub-millisecond precision (when a dispatch arrived). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}

/** Rejects with the signal's reason once it aborts (at once if it has). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}
