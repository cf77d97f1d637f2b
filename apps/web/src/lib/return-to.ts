/**
 * Validates a post-login return URL: only a same-origin path is accepted
 * (`/rooms/x?t=...`), never an absolute or protocol-relative URL. Anything
 * else falls back to `fallback`.
 *
 * The input is checked, then normalised (dot segments resolved, `%2e` decoded), and the
 * normalised path, which is what the redirect sends, is checked again: `/..//evil.com`,
 * `/.//evil.com`, `/%2e%2e//evil.com` and `/rooms/../..//evil.com` all normalise to the
 * protocol-relative `//evil.com`.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback
  if (!isLocalPath(value)) return fallback
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback
  const base = 'http://return-to.invalid'
  let url: URL
  try {
    url = new URL(value, base)
  } catch {
    return fallback
  }
  if (url.origin !== base) return fallback
  const path = `${url.pathname}${url.search}${url.hash}`
  if (!isLocalPath(path) || new URL(path, base).origin !== base) return fallback
  return path
}

/** A path a browser resolves on this origin: one leading slash, not `//host` or `/\\host`. */
function isLocalPath(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')
}

/** The login URL that brings the user back to `returnTo` afterwards. */
export function loginUrl(returnTo: string): string {
  return `/auth/login?returnTo=${encodeURIComponent(safeReturnTo(returnTo))}`
}
