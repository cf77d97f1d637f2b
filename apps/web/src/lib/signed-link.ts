import { APP_ERRORS, type AppErrorCode, needsSignIn } from '@repo/discord-integration/contracts'
import { redirect, useNavigate } from '@tanstack/react-router'
import { useEffect } from 'react'
import { setPageStatus } from './page-status'
import { loginUrl } from './return-to'
import { errorCodeOf } from './server-fn-errors'

/** What a signed link's landing page loads: the preview, or the typed error to show. */
export type LinkPreview<T> =
  | { preview: T; error?: never }
  | { preview?: never; error: AppErrorCode }

/**
 * The loader of a signed link's landing page (invite, watch link). A visitor who is not signed in
 * goes to sign-in and back; an expired link and a closed room have their own pages. Any other
 * refusal (garbage, another room's token) is the visitor's error, not ours: the page shows it with
 * the error's own status (400 for TOKEN_INVALID / INVALID_INPUT), never 500.
 */
export async function loadLinkPreview<T>(
  load: () => Promise<T>,
  href: string,
): Promise<LinkPreview<T>> {
  try {
    return { preview: await load() }
  } catch (error) {
    const code = errorCodeOf(error)
    if (needsSignIn(code)) throw redirect({ href: loginUrl(href), reloadDocument: true })
    if (code === 'TOKEN_EXPIRED') throw redirect({ to: '/invite-expired' })
    if (code === 'ROOM_NOT_FOUND') throw redirect({ to: '/room-closed' })
    setPageStatus(APP_ERRORS[code].status)
    return { error: code }
  }
}

/** After the link's action failed: an expired link or a closed room opens its own page. */
export function useLinkErrorPages(code: AppErrorCode | undefined): void {
  const navigate = useNavigate()
  useEffect(() => {
    if (code === 'TOKEN_EXPIRED') void navigate({ to: '/invite-expired' })
    if (code === 'ROOM_NOT_FOUND') void navigate({ to: '/room-closed' })
    // Only a join can be refused for a full room (a watch link has its own limit and message).
    if (code === 'ROOM_FULL') void navigate({ to: '/room-full' })
  }, [code, navigate])
}
