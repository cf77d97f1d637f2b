import { publicError } from '../../lib/server-fn-errors'
import { toAppError } from '../../server/app-error'
import { getLogger } from '../../server/logger.server'
import type { Actor, SessionUser } from '../../server/ports'
import { type Runtime, startRuntime } from '../../server/runtime.server'
import { currentUser, requireActor } from '../auth/session.server'

/**
 * Runs a server function body for the signed-in caller. Errors become public
 * errors (code + table message + status); internals are logged, never sent.
 */
export async function runAuthenticated<T>(
  body: (runtime: Runtime, actor: Actor) => Promise<T>,
): Promise<T> {
  try {
    const runtime = await startRuntime()
    const actor = await requireActor()
    runtime.callerLimit.take(actor.userId)
    return await body(runtime, actor)
  } catch (error) {
    throw toPublic(error)
  }
}

/** Runs a server function body that works signed out too. */
export async function runPublic<T>(
  body: (runtime: Runtime, user: SessionUser | null) => Promise<T>,
): Promise<T> {
  try {
    const runtime = await startRuntime()
    return await body(runtime, await currentUser())
  } catch (error) {
    throw toPublic(error)
  }
}

function toPublic(error: unknown): Error {
  const appError = toAppError(error)
  if (appError.status >= 500) {
    getLogger().error(
      { err: appError.cause ?? appError, code: appError.code },
      'server function failed',
    )
  }
  return publicError(appError.toBody())
}
