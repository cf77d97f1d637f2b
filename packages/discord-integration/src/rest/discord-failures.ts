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

/**
 * Whether Discord refused a user's OAuth2 authorization itself, so that signing in again is the only
 * way on: a token request answered `invalid_grant` (a refresh token that was revoked, already used
 * or expired; 400, or 401 from some deployments), `invalid_token` (401), or an API call answered
 * 50025 "Invalid OAuth2 access token" (adding a member with a revoked access token). Transient
 * failures, rate limits and our own misconfiguration (`invalid_client`) are not.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc6749#section-5.2
 * @see https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
 */
export function isRevokedAuthorization(error: unknown): boolean {
  if (!(error instanceof DiscordAPIError)) return false
  if (error.code === 'invalid_grant' || error.code === 'invalid_token') return true
  return error.code === 50025
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
 * guild channels" (30013), DISCORD_AUTH_REVOKED when Discord refused the user's own OAuth2
 * authorization ({@link isRevokedAuthorization}: the caller must sign in again),
 * DISCORD_UNAVAILABLE otherwise. An AppError passes through. Discord's
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
  if (isRevokedAuthorization(error)) return new AppError('DISCORD_AUTH_REVOKED', { cause: error })
  return new AppError('DISCORD_UNAVAILABLE', { cause: error })
}
