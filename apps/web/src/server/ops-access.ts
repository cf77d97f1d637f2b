import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'

/**
 * Who may read the operator endpoints (/metrics, the detailed /api/health).
 *
 * - With METRICS_TOKEN set: a request with `Authorization: Bearer <METRICS_TOKEN>`, compared in
 *   constant time; anything else gets 401.
 * - Without it: only a request made on this machine directly, that is from a loopback address and
 *   without any proxy header (Forwarded, X-Forwarded-For, X-Real-IP). A reverse proxy on the same
 *   host connects from loopback too, and most add such a header, so their requests are refused
 *   (403). A proxy that adds none would make the endpoints public: docs/operations.md says to set
 *   METRICS_TOKEN whenever a proxy runs on the same host.
 */
export function opsAccessDenied(
  request: Request,
  clientAddress: string | undefined,
  token: string | undefined,
): Response | null {
  if (token !== undefined) {
    if (bearerMatches(request.headers.get('authorization'), token)) return null
    return Response.json(
      { error: 'unauthorized' },
      {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="operations"', 'cache-control': 'no-store' },
      },
    )
  }
  if (isLoopback(clientAddress) && !PROXY_HEADERS.some((name) => request.headers.has(name))) {
    return null
  }
  return Response.json(
    { error: 'forbidden' },
    { status: 403, headers: { 'cache-control': 'no-store' } },
  )
}

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']

/** Compares digests, so neither the token's content nor its length leaks through timing. */
function bearerMatches(header: string | null, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '')
  if (!match?.[1]) return false
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(match[1]), digest(token))
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (::ffff:127.x.y.z). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return isIP(address) === 6 && /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(address)
}
