import { setTimeout as sleep } from 'node:timers/promises'
import { type BackoffPolicy, backoffDelay } from '../contracts/backoff'
import { describeDiscordError, isTransientDiscordFailure } from './discord-failures'
import type { WarnLogger } from './warn-logger'

/** The backoff between tries of a Discord call: ceilings 200, 400, 800 ms... capped at 5 s. */
export const DISCORD_RETRY_BACKOFF = { baseMs: 200, maxMs: 5000 } as const satisfies BackoffPolicy

/** Options of {@link withDiscordRetry}. */
export interface RetryOptions {
  /** Tries in total (the first included); 1 for calls that must not repeat. @defaultValue 4 */
  attempts?: number
  /** @defaultValue {@link DISCORD_RETRY_BACKOFF} */
  backoff?: BackoffPolicy
  /** Logs each retry (warn). */
  logger?: WarnLogger
  /** What the call does, for the log. */
  what?: string
  /** Waits between tries (injected by tests). @defaultValue a real timer */
  sleep?: (ms: number) => Promise<unknown>
  /** The jitter draw in [0, 1). @defaultValue Math.random */
  random?: () => number
}

/**
 * Runs a Discord call, trying again after a 5xx answer, a timeout or a dropped connection, with
 * capped exponential backoff and full jitter (the project's one backoff, contracts/backoff.ts).
 * Rate limits are not retried here: @discordjs/rest already waited out the short ones, and a
 * longer one fails at once. Every other error is thrown as is, for `toDiscordFailure` to map.
 */
export async function withDiscordRetry<T>(
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4
  const backoff = options.backoff ?? DISCORD_RETRY_BACKOFF
  const wait = options.sleep ?? sleep
  const random = options.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (attempt >= attempts || !isTransientDiscordFailure(error)) throw error
      options.logger?.warn(
        { what: options.what, attempt, err: describeDiscordError(error) },
        'discord retry',
      )
      await wait(backoffDelay(attempt, backoff, random()))
    }
  }
}
