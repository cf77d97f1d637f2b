import { PresenceCloseCode } from '@repo/discord-integration/contracts'
import { useEffect, useState } from 'react'
import { loginUrl } from '../../lib/return-to'
import { getPresenceClient } from './presence-client'

/** The close code that stopped the page's presence connection for good, or null. */
export function useStoppedBy(status: string): number | null {
  const [code, setCode] = useState<number | null>(null)
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-read when the status changes
  useEffect(() => {
    setCode(getPresenceClient().stoppedBy)
  }, [status])
  return code
}

/**
 * A refused WebSocket upgrade (401 after the session expired) looks like a network drop
 * to the browser. While the page is not live, ask the server now and then whether the
 * session is still valid, and send the user to sign in (and back here) when it is not.
 */
export function useSignInWhenSessionLost(live: boolean, stoppedBy: number | null) {
  useEffect(() => {
    if (live) return
    if (stoppedBy === PresenceCloseCode.Unauthenticated) {
      window.location.assign(loginUrl(`${window.location.pathname}${window.location.search}`))
      return
    }
    let cancelled = false
    const check = async () => {
      try {
        const response = await fetch('/api/session', { cache: 'no-store' })
        if (!cancelled && response.status === 401) {
          window.location.assign(loginUrl(`${window.location.pathname}${window.location.search}`))
        }
      } catch {
        // offline: the connection machine keeps retrying
      }
    }
    const first = setTimeout(check, 4000)
    const every = setInterval(check, 15_000)
    return () => {
      cancelled = true
      clearTimeout(first)
      clearInterval(every)
    }
  }, [live, stoppedBy])
}
