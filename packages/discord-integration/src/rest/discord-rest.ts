import { type RateLimitData, REST, RESTEvents } from '@discordjs/rest'
import type { WarnLogger } from './warn-logger'

/** The REST client the app talks to Discord with (one per process). */
export type DiscordRest = REST

/** Options of {@link createDiscordRest}. */
export interface DiscordRestOptions {
  /** Base URL, e.g. `https://discord.com/api` or the emulator's `restBase`. */
  api: string
  token: string
  /** Per-request timeout in ms. @defaultValue 10000 */
  timeout?: number
  /**
   * The longest rate-limit wait a call accepts, in ms. @discordjs/rest queues requests per
   * bucket and waits out 429s by itself; a wait longer than this fails the call at once with
   * RATE_LIMITED (see `toDiscordFailure`) instead of holding a browser's request.
   * @defaultValue 5000
   */
  maxRateLimitWaitMs?: number
  /** Logs every rate limit the client meets (warn), waited out or not. */
  logger?: WarnLogger
}

/**
 * Whether a rate limit makes the call fail rather than wait. @discordjs/rest waits for the bucket
 * to reset (`timeToReset`) or for the 429's Retry-After (`retryAfter`), whichever applies: the
 * longer of the two is what the caller would wait.
 */
export function rateLimitTooLong(data: RateLimitData, maxWaitMs: number): boolean {
  return Math.max(data.retryAfter, data.timeToReset) > maxWaitMs
}

/**
 * The process's REST client. @discordjs/rest does the rate limiting (per-route buckets, the
 * global limit, waiting out 429s); waits longer than `maxRateLimitWaitMs` are rejected with its
 * RateLimitError. It does not retry 5xx answers or network failures itself (`retries: 0`): it
 * would retry at once, where `withDiscordRetry` backs off.
 *
 * @see https://discord.com/developers/docs/topics/rate-limits
 *
 * @example
 * ```ts
 * const rest = createDiscordRest({ api: 'https://discord.com/api', token: process.env.DISCORD_BOT_TOKEN! })
 * const user = await withDiscordRetry(() => rest.get(Routes.user()))
 * ```
 */
export function createDiscordRest(options: DiscordRestOptions): DiscordRest {
  const maxWaitMs = options.maxRateLimitWaitMs ?? 5000
  const rest = new REST({
    api: options.api,
    timeout: options.timeout ?? 10_000,
    retries: 0,
    rejectOnRateLimit: (data) => rateLimitTooLong(data, maxWaitMs),
  }).setToken(options.token)
  const { logger } = options
  if (logger) {
    rest.on(RESTEvents.RateLimited, (data) =>
      logger.warn(
        { route: data.route, retryAfter: data.retryAfter, global: data.global },
        'discord rate limit',
      ),
    )
  }
  return rest
}
