import type { AppErrorCode } from '@repo/discord-integration/contracts'
import { useCallback, useState } from 'react'
import { errorCodeOf, errorMessageOf } from '../server-fn-errors'

/** Runs an async action with pending and error state; UNAUTHENTICATED sends the user to sign in. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<{ code: AppErrorCode; message: string } | null>(null)
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true)
      setError(null)
      try {
        return await action(...args)
      } catch (caught) {
        const code = errorCodeOf(caught)
        if (code === 'UNAUTHENTICATED') {
          const here = `${window.location.pathname}${window.location.search}`
          window.location.assign(`/auth/login?returnTo=${encodeURIComponent(here)}`)
          return undefined
        }
        setError({ code, message: errorMessageOf(caught) })
        return undefined
      } finally {
        setPending(false)
      }
    },
    [action],
  )
  return { run, pending, error, clearError: () => setError(null) }
}
