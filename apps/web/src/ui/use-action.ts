import { type AppErrorCode, needsSignIn } from '@repo/discord-integration/contracts'
import { useCallback, useState, useSyncExternalStore } from 'react'
import { loginUrl } from '../lib/return-to'
import { errorCodeOf, errorMessageOf } from '../lib/server-fn-errors'

const noSubscribe = () => () => {}

/** false during SSR and hydration, true once React owns the page (buttons work). */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscribe,
    () => true,
    () => false,
  )
}

/**
 * Runs an async action with pending and error state. An error that needs a new sign-in
 * (UNAUTHENTICATED, SESSION_EXPIRED, DISCORD_AUTH_REVOKED) sends the user to sign in and back here.
 */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const hydrated = useHydrated()
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<{
    code: AppErrorCode
    message: string
    /** Seconds to wait, when the refusal said (RATE_LIMITED, CODE_ATTEMPTS). */
    retryAfter?: number
  } | null>(null)
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true)
      setError(null)
      try {
        return await action(...args)
      } catch (caught) {
        const code = errorCodeOf(caught)
        if (needsSignIn(code)) {
          window.location.assign(loginUrl(`${window.location.pathname}${window.location.search}`))
          return undefined
        }
        const retryAfter = (caught as { retryAfter?: unknown } | null)?.retryAfter
        setError({
          code,
          message: errorMessageOf(caught),
          ...(typeof retryAfter === 'number' ? { retryAfter } : {}),
        })
        return undefined
      } finally {
        setPending(false)
      }
    },
    [action],
  )
  // `disabled` also covers the moment before hydration, when a click would do nothing
  // (or, for a form, submit it natively).
  return { run, pending, disabled: pending || !hydrated, error, clearError: () => setError(null) }
}
