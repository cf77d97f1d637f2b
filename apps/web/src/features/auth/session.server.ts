import { appendResponseHeader, getRequest } from '@tanstack/react-start/server'
import { AppError } from '../../server/app-error'
import type { Actor, SessionUser } from '../../server/ports'
import { startRuntime } from '../../server/runtime.server'
import { sessionUser } from './auth-service.server'

/**
 * Reads the signed-in user from a Cookie header (no network, no refresh).
 * Used at WebSocket upgrade time. Null when there is no valid session.
 */
export async function readSession(cookieHeader: string | null): Promise<SessionUser | null> {
  const runtime = await startRuntime()
  const session = await runtime.auth.readSession(cookieHeader)
  return session ? sessionUser(session) : null
}

/**
 * The signed-in user of the current request (server functions, loaders),
 * with a fresh Discord token: refreshed silently when close to expiry, the
 * new cookie set on the response. A failed refresh clears the cookie.
 * @throws AppError UNAUTHENTICATED
 */
export async function requireActor(): Promise<Actor> {
  const runtime = await startRuntime()
  const cookieHeader = getRequest().headers.get('cookie')
  const session = await runtime.auth.readSession(cookieHeader)
  if (!session) throw new AppError('UNAUTHENTICATED')
  try {
    const fresh = await runtime.auth.ensureFresh(session)
    if (fresh.setCookie) appendResponseHeader('set-cookie', fresh.setCookie)
    return { ...sessionUser(fresh.session), accessToken: fresh.session.accessToken }
  } catch (error) {
    appendResponseHeader('set-cookie', runtime.auth.clearCookie('tv_session'))
    throw error
  }
}

/** The signed-in user of the current request, or null (no refresh attempted). */
export async function currentUser(): Promise<SessionUser | null> {
  return readSession(getRequest().headers.get('cookie'))
}
