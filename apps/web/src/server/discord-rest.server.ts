import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest'
import { backoffDelay } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import { AppError, isAppError } from './app-error'
import { sleep } from './clock'

/** Options of {@link createDiscordRest}. */
export interface DiscordRestOptions {
  /** Base URL, e.g. `https://discord.com/api` or the emulator's restBase. */
  api: string
  token: string
  /** Per-request timeout in ms. @defaultValue 10000 */
  timeout?: number
}

/**
 * The one REST instance of the process. 429s are rejected (not retried forever
 * inside the library) so {@link withDiscordRetry} can bound them; 5xx retries are
 * also ours, with backoff.
 */
export function createDiscordRest(options: DiscordRestOptions): REST {
  return new REST({
    api: options.api,
    timeout: options.timeout ?? 10_000,
    retries: 0,
    rejectOnRateLimit: () => true,
  }).setToken(options.token)
}

/** Options of {@link withDiscordRetry}. */
export interface RetryOptions {
  /** Attempts in total (first try included). @defaultValue 4 */
  attempts?: number
  /** Longest rate-limit wait we accept before giving up with RATE_LIMITED, ms. @defaultValue 5000 */
  maxRateLimitWaitMs?: number
  /** Ceiling of the first 5xx/network backoff (full jitter), doubled per attempt. @defaultValue 200 */
  baseBackoffMs?: number
  logger?: Logger
  what?: string
}

/**
 * Runs a Discord call with a bounded retry: on 429 waits the advertised
 * retry-after (from Discord's headers, via RateLimitError) if it is short enough;
 * on 5xx or a network failure backs off exponentially with full jitter. Other errors are thrown as is.
 */
export async function withDiscordRetry<T>(
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4
  const maxWait = options.maxRateLimitWaitMs ?? 5000
  const base = options.baseBackoffMs ?? 200
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const last = attempt >= attempts
      if (error instanceof RateLimitError) {
        options.logger?.warn(
          { what: options.what, retryAfter: error.retryAfter, global: error.global, attempt },
          'discord rate limit',
        )
        if (last || error.retryAfter > maxWait) {
          throw new AppError('RATE_LIMITED', {
            cause: error,
            retryAfter: Math.ceil(error.retryAfter / 1000),
          })
        }
        await sleep(Math.max(error.retryAfter, 50))
        continue
      }
      if (isTransient(error) && !last) {
        options.logger?.warn({ what: options.what, attempt, err: describe(error) }, 'discord retry')
        await sleep(backoffDelay(attempt, { baseMs: base, maxMs: maxWait }, Math.random()))
        continue
      }
      throw error
    }
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof DiscordAPIError || error instanceof HTTPError) return error.status >= 500
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return (
      error.name === 'AbortError' ||
      error.name === 'TimeoutError' ||
      code === 'ECONNRESET' ||
      code === 'ECONNREFUSED' ||
      code === 'UND_ERR_SOCKET'
    )
  }
  return false
}

/** The Discord JSON error code of `error`, if it is a Discord API error. */
export function discordCode(error: unknown): number | string | undefined {
  return error instanceof DiscordAPIError ? error.code : undefined
}

/** HTTP status of a Discord error, if any. */
export function discordStatus(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined
}

/** A short log-safe description (never a token: @discordjs/rest errors carry none). */
export function describe(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) {
    return {
      name: error.name,
      status: error.status,
      code: error.code,
      method: error.method,
      url: error.url,
    }
  }
  if (error instanceof HTTPError)
    return { name: error.name, status: error.status, method: error.method }
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { error: String(error) }
}

/** Maps a failed Discord call to the browser-safe error (502 unless it is already an AppError). */
export function toDiscordFailure(error: unknown): AppError {
  if (isAppError(error)) return error
  if (discordCode(error) === 30013) return new AppError('NO_CAPACITY', { cause: error })
  return new AppError('DISCORD_UNAVAILABLE', { cause: error })
}
