import { AppError, isAppError } from '../../server/app-error'
import type { Actor, SessionUser } from '../../server/ports'
import { type AuthService, SESSION_COOKIE, sessionUser } from './auth-service.server'

/**
 * The session helpers between a request and the sign-in service: who is calling, from the
 * request's Cookie header. They take the AuthService and the header as arguments (the server
 * function middleware and the routes pass them in), so they run the same in tests. `setCookie`
 * receives each Set-Cookie value the response must carry: the renewed session cookie when the
 * session's use was recorded, or the cleared one when the session is over.
 */

/**
 * The signed-in user of a Cookie header (no Discord call): null when there is no live session.
 * Used for pages that work signed out and `/api/session`.
 */
export async function readSessionUser(
  auth: AuthService,
  cookieHeader: string | null,
  setCookie: (value: string) => void = () => {},
): Promise<SessionUser | null> {
  const found = await auth.readSession(cookieHeader)
  if (found.state !== 'active') return null
  if (found.renewCookie) setCookie(found.renewCookie)
  return sessionUser(found.session)
}

/**
 * Who opens a WebSocket: the user and the id of their session, whose end closes the socket
 * (4001). Null without a live session (the upgrade is refused with 401).
 */
export async function readSocketUser(
  auth: AuthService,
  cookieHeader: string | null,
): Promise<(SessionUser & { sessionId: string }) | null> {
  const found = await auth.readSession(cookieHeader)
  return found.state === 'active' ? { ...sessionUser(found.session), sessionId: found.id } : null
}

/**
 * The signed-in caller, with a Discord token good for a while (renewed first when close to
 * expiry), and the id of their session.
 * @throws AppError UNAUTHENTICATED without a session cookie of ours; SESSION_EXPIRED when its
 *   session ended (signed out here or everywhere, unused for 30 days); DISCORD_AUTH_REVOKED when
 *   Discord refused to renew its token (the session is then ended). These three clear the cookie.
 *   DISCORD_UNAVAILABLE or RATE_LIMITED when Discord could not renew it now (the session stays).
 */
export async function requireCaller(
  auth: AuthService,
  cookieHeader: string | null,
  setCookie: (value: string) => void,
): Promise<{ actor: Actor; sessionId: string }> {
  const found = await auth.readSession(cookieHeader)
  if (found.state === 'none') throw new AppError('UNAUTHENTICATED')
  if (found.state === 'invalid') {
    setCookie(auth.clearCookie(SESSION_COOKIE))
    throw new AppError('UNAUTHENTICATED')
  }
  if (found.state === 'ended') {
    setCookie(auth.clearCookie(SESSION_COOKIE))
    throw new AppError('SESSION_EXPIRED')
  }
  if (found.renewCookie) setCookie(found.renewCookie)
  try {
    const tokens = await auth.sessions.freshTokens(found.session)
    return {
      actor: { ...sessionUser(found.session), accessToken: tokens.accessToken },
      sessionId: found.id,
    }
  } catch (error) {
    if (isAppError(error, 'SESSION_EXPIRED', 'DISCORD_AUTH_REVOKED')) {
      setCookie(auth.clearCookie(SESSION_COOKIE))
    }
    throw error
  }
}

/**
 * Runs `fn` as the signed-in caller ({@link requireCaller}). When Discord refuses the caller's own
 * authorization while `fn` uses it (DISCORD_AUTH_REVOKED: the user removed the app in Discord, say),
 * the session is ended on every node and the cookie cleared before the error goes on.
 */
export async function actAsCaller<T>(
  auth: AuthService,
  cookieHeader: string | null,
  setCookie: (value: string) => void,
  fn: (actor: Actor) => Promise<T>,
): Promise<T> {
  const { actor, sessionId } = await requireCaller(auth, cookieHeader, setCookie)
  try {
    return await fn(actor)
  } catch (error) {
    if (isAppError(error, 'DISCORD_AUTH_REVOKED')) {
      await auth.sessions.end([sessionId], { revokeDiscord: false })
      setCookie(auth.clearCookie(SESSION_COOKIE))
    }
    throw error
  }
}
