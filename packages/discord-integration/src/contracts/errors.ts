import { z } from 'zod'

/**
 * Every error the app shows a browser, by stable code. The HTTP status is the one
 * server functions and routes answer with; the message is safe to display.
 */
export const APP_ERRORS = {
  INVALID_INPUT: { status: 400, message: 'The request was not valid.' },
  TOKEN_INVALID: { status: 400, message: 'This invite link is not valid.' },
  UNAUTHENTICATED: { status: 401, message: 'Please sign in with Discord.' },
  SESSION_EXPIRED: {
    status: 401,
    message: 'Your session has ended. Please sign in with Discord again.',
  },
  DISCORD_AUTH_REVOKED: {
    status: 401,
    message:
      'Discord no longer accepts your sign-in (it was revoked or could not be renewed). Please sign in with Discord again.',
  },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do that.' },
  SERVERS_SIGN_IN: {
    status: 401,
    message: 'Sign in with Discord again so that Table Voice can see your servers.',
  },
  MANAGE_SERVER_REQUIRED: {
    status: 403,
    message: "Only members with Manage Server can change this server's room settings.",
  },
  SERVER_NOT_ALLOWED: {
    status: 403,
    message: 'You cannot create rooms in that server.',
  },
  SERVER_NOT_FOUND: {
    status: 404,
    message: 'Table Voice is not in that Discord server, or community servers are off here.',
  },
  ROOM_NOT_FOUND: { status: 404, message: 'This room does not exist or has been closed.' },
  ROOM_FULL: { status: 409, message: 'This room already has four players.' },
  ROOM_LOCKED: {
    status: 409,
    message: 'The host has locked this room: no new players can join for now.',
  },
  SPECTATORS_FULL: {
    status: 409,
    message: 'This room already has the most spectators allowed.',
  },
  TOO_MANY_ROOMS: {
    status: 409,
    message: 'You already host the most open rooms allowed. Close one first.',
  },
  SERVER_FULL: {
    status: 409,
    message:
      'This server already has the most open rooms its admins allow. Try again later, or pick another server.',
  },
  CODE_INVALID: {
    status: 404,
    message: 'No open room has this code. Check it, or ask the host for the current one.',
  },
  TOKEN_EXPIRED: {
    status: 410,
    message: 'This invite link has expired. Ask the host for a new one.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests. Try again in a moment.' },
  CODE_ATTEMPTS: {
    status: 429,
    message: 'Too many room codes tried. Wait a few minutes, then try again.',
  },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
  DISCORD_UNAVAILABLE: { status: 502, message: 'Discord did not answer as expected. Try again.' },
  NO_CAPACITY: { status: 503, message: 'The Discord server has no room for more voice channels.' },
} as const satisfies Record<string, { status: number; message: string }>

export type AppErrorCode = keyof typeof APP_ERRORS

/**
 * The codes after which the caller must sign in again: no session (UNAUTHENTICATED), a session
 * that ended (SESSION_EXPIRED: signed out, here or everywhere, or unused for 30 days), or a Discord
 * authorization that Discord refused (DISCORD_AUTH_REVOKED), or a sign-in from before the app asked
 * for the `guilds` scope, which community servers need (SERVERS_SIGN_IN). Pages send the player to sign in with
 * a return URL on any of them.
 */
export const SIGN_IN_ERROR_CODES = [
  'UNAUTHENTICATED',
  'SESSION_EXPIRED',
  'DISCORD_AUTH_REVOKED',
  'SERVERS_SIGN_IN',
] as const satisfies readonly AppErrorCode[]

/** Whether `code` means the caller has to sign in (again). */
export function needsSignIn(code: AppErrorCode): boolean {
  return (SIGN_IN_ERROR_CODES as readonly AppErrorCode[]).includes(code)
}
export const AppErrorCodeSchema = z.enum(
  Object.keys(APP_ERRORS) as [AppErrorCode, ...AppErrorCode[]],
)

/** The serialisable shape of an error as the browser receives it. */
export const AppErrorBodySchema = z.object({
  code: AppErrorCodeSchema,
  message: z.string(),
  /** Seconds to wait, for RATE_LIMITED and CODE_ATTEMPTS. */
  retryAfter: z.number().optional(),
})
export type AppErrorBody = z.infer<typeof AppErrorBodySchema>
