import { AppError } from '../../server/app-error'
import type { Actor, SessionUser } from '../../server/ports'
import { type AuthService, SESSION_COOKIE, sessionUser } from './auth-service.server'

/**
 * The session helpers between a request and the sign-in service: who is calling, from the
 * request's Cookie header. They take the AuthService and the header as arguments (the server
 * function middleware and the routes pass them in), so they run the same in tests.
 */

/**
 * The signed-in user of a Cookie header (no network, no refresh): null when there is no valid
 * session. Used for pages that work signed out, `/api/session` and the WebSocket upgrade.
 */
export async function readSessionUser(
  auth: AuthService,
  cookieHeader: string | null,
): Promise<SessionUser | null> {
  const session = await auth.readSession(cookieHeader)
  return session ? sessionUser(session) : null
}

/**
 * The signed-in caller, with a Discord token good for a while: refreshed silently when close to
 * expiry. `setCookie` receives each Set-Cookie value the response must carry: the refreshed
 * session cookie, or the cleared one when the refresh failed (Discord revoked the grant, say),
 * so a browser does not keep a session that can no longer act.
 * @throws AppError UNAUTHENTICATED without a valid session, or when the refresh failed
 */
export async function requireActor(
  auth: AuthService,
  cookieHeader: string | null,
  setCookie: (value: string) => void,
): Promise<Actor> {
  const session = await auth.readSession(cookieHeader)
  if (!session) throw new AppError('UNAUTHENTICATED')
  try {
    const fresh = await auth.ensureFresh(session)
    if (fresh.setCookie) setCookie(fresh.setCookie)
    return { ...sessionUser(fresh.session), accessToken: fresh.session.accessToken }
  } catch (error) {
    setCookie(auth.clearCookie(SESSION_COOKIE))
    throw error
  }
}
