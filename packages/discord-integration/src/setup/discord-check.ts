import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest'
import { withDiscordRetry } from '../rest/retry'
import { type PermissionName, permissionLabel } from './permissions'
import { type SetupCheck, type SetupCheckStatus, setupCheck } from './setup-check'

/*
 * What the Discord setup checks share: their ids and titles, the way they read Discord's answers
 * (a call becomes a result, never a throw) and describe a failure for people, and permission names.
 */

/** The checks `checkDiscordSetup` makes, in their order: id → title. */
export const DISCORD_CHECK_TITLES = {
  'bot-token': 'bot token',
  application: 'application',
  'client-secret': 'client secret',
  redirect: 'OAuth2 redirect',
  intents: 'gateway intents',
  guild: 'bot in the server',
  'guild-permissions': 'server permissions',
  'category-permissions': 'room category permissions',
} as const

export type DiscordCheckId = keyof typeof DISCORD_CHECK_TITLES

/** Where a fix in Discord's Developer Portal starts. */
export const PORTAL =
  'Developer Portal (https://discord.com/developers/applications) → your application'

/** A result of one of the Discord checks. */
export function discordCheck(
  id: DiscordCheckId,
  status: SetupCheckStatus,
  message: string,
  fix?: string,
): SetupCheck {
  return setupCheck(id, DISCORD_CHECK_TITLES[id], status, message, fix)
}

/** The result of a check Discord did not answer as expected (network, 5xx, rate limit...). */
export function unanswered(id: DiscordCheckId, error: unknown, apiUrl: string): SetupCheck {
  return discordCheck(
    id,
    'error',
    `Discord did not answer as expected: ${describeFailure(error)}`,
    `check DISCORD_API_URL (${apiUrl}) and this machine's network, then run the doctor again`,
  )
}

/** A REST call's outcome. */
export type Answer<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** One REST call (tried again once after a 5xx or a dropped connection), as an {@link Answer}. */
export async function ask<T>(call: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await withDiscordRetry(call, { attempts: 2 }) }
  } catch (error) {
    return { ok: false, error }
  }
}

/** The HTTP status Discord answered a failed call with, if it answered. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof DiscordAPIError || error instanceof HTTPError ? error.status : undefined
}

/**
 * A short description of a failed call for people: Discord's status and error, or the network
 * error's code. Never a token: @discordjs/rest's errors carry none, and only these fields are read.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof DiscordAPIError) {
    // Discord's message already starts with the status for some answers ("401: Unauthorized").
    if (error.message.startsWith(`${error.status}:`)) return error.message
    const code = error.code === 0 ? '' : ` ${error.code}`
    return `${error.status}${code} ${error.message}`
  }
  if (error instanceof HTTPError) return `HTTP ${error.status}`
  if (error instanceof RateLimitError) {
    return `rate limited for ${Math.ceil(Math.max(error.retryAfter, error.timeToReset) / 1000)} s`
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: unknown } }).cause
    const code = (error as { code?: unknown }).code ?? cause?.code
    if (typeof code === 'string') return code
    return error.name === 'AbortError' || error.name === 'TimeoutError'
      ? 'no answer (timeout)'
      : error.name
  }
  return 'unknown error'
}

/**
 * "Manage Channels, Move Members": permission names as Discord's client shows them; `inChannel`
 * names them as a channel's or category's Permissions page does.
 */
export function labels(names: readonly PermissionName[], inChannel = false): string {
  return names
    .map((name) =>
      inChannel && name === 'ManageRoles'
        ? 'Manage Permissions'
        : inChannel && name === 'ViewChannel'
          ? 'View Channel'
          : permissionLabel(name),
    )
    .join(', ')
}
