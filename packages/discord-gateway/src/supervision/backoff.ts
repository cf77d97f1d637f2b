import type { BackoffPolicy } from '@repo/discord-integration/contracts'
import {
  backoffDelay,
  backoffCeiling as ceilingOf,
  GATEWAY_BACKOFF,
} from '@repo/discord-integration/contracts'

/** Capped exponential backoff settings (milliseconds); missing fields take the gateway's schedule. */
export interface BackoffOptions {
  /** First ceiling; doubles per attempt. @defaultValue 1000 */
  baseMs?: number
  /** Largest ceiling. @defaultValue 30000 */
  maxMs?: number
}

export const DEFAULT_BACKOFF = GATEWAY_BACKOFF

/** The ceiling for a retry: base * 2^(retry-1), capped (1, 2, 4, 8, 16, 30, 30… s by default). */
export function backoffCeiling(retry: number, options: BackoffOptions = {}): number {
  return ceilingOf(retry, { ...GATEWAY_BACKOFF, ...options })
}

/** Full jitter: a uniform delay in [0, ceiling). `random` is injectable for tests. */
export function fullJitterDelay(
  retry: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  return backoffDelay(retry, { ...GATEWAY_BACKOFF, ...options }, random())
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'))
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason ?? new DOMException('Aborted', 'AbortError'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Sleeps the full-jitter delay of retry number `retry` under `policy` (`random` drawn once).
 * False when `signal` aborted first (the caller stops retrying).
 */
export async function backoffSleep(
  retry: number,
  policy: BackoffPolicy,
  random: () => number,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    await sleep(backoffDelay(retry, policy, random()), signal)
    return true
  } catch {
    return false
  }
}
