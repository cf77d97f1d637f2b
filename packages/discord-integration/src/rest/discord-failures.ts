import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest'
import { AppError, isAppError } from '../app-error'

/** The Discord JSON error code of `error` (e.g. 40032), if it is a Discord API error. */
export function discordCode(error: unknown): number | string | undefined {
  return error instanceof DiscordAPIError ? error.code : undefined
}

/** The HTTP status of a failed Discord call, if it got an answer. */
export function discordStatus(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined
}

/**
 * Whether a failed call may succeed if tried again: a 5xx answer, a timeout or a dropped
 * connection. 4xx answers (Discord said no) and rate limits (already waited for by
 * @discordjs/rest, or too long to wait) are not.
 */
export function isTransientDiscordFailure(error: unknown): boolean {
  if (error instanceof DiscordAPIError || error instanceof HTTPError) return error.status >= 500
  if (error instanceof RateLimitError || !(error instanceof Error)) return false
  const code = (error as NodeJS.ErrnoException).code
  return (
    error.name === 'AbortError' ||
    error.name === 'TimeoutError' ||
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'UND_ERR_SOCKET'
  )
}

/** A short log-safe description (never a token: @discordjs/rest errors carry none). */
export function describeDiscordError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError) {
    return {
      name: error.name,
      status: error.status,
      code: error.code,
      method: error.method,
      url: error.url,
    }
  }
  if (error instanceof HTTPError) {
    return { name: error.name, status: error.status, method: error.method }
  }
  if (error instanceof RateLimitError) {
    return {
      name: error.name,
      route: error.route,
      retryAfter: error.retryAfter,
      global: error.global,
    }
  }
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { error: String(error) }
}

/**
 * Maps a failed Discord call to the browser-safe AppError: RATE_LIMITED (with the seconds to
 * wait) for a rate limit longer than we wait, NO_CAPACITY for Discord's "maximum number of
 * guild channels" (30013), DISCORD_UNAVAILABLE otherwise. An AppError passes through. Discord's
 * own text stays in `cause`, for the log.
 *
 * @see https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
 */
export function toDiscordFailure(error: unknown): AppError {
  if (isAppError(error)) return error
  if (error instanceof RateLimitError) {
    const waitMs = Math.max(error.retryAfter, error.timeToReset)
    return new AppError('RATE_LIMITED', { cause: error, retryAfter: Math.ceil(waitMs / 1000) })
  }
  if (discordCode(error) === 30013) return new AppError('NO_CAPACITY', { cause: error })
  return new AppError('DISCORD_UNAVAILABLE', { cause: error })
}
