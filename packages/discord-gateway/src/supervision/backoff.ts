/** Capped exponential backoff settings (milliseconds). */
export interface BackoffOptions {
  /** First ceiling; doubles per attempt. @defaultValue 1000 */
  baseMs?: number
  /** Largest ceiling. @defaultValue 30000 */
  maxMs?: number
}

export const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const

/** The ceiling for a retry: base * 2^(retry-1), capped (1, 2, 4, 8, 16, 30, 30… s by default). */
export function backoffCeiling(retry: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs
  if (retry < 1) return 0
  return Math.min(max, base * 2 ** Math.min(retry - 1, 30))
}

/** Full jitter: a uniform delay in [0, ceiling). `random` is injectable for tests. */
export function fullJitterDelay(
  retry: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(retry, options))
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
