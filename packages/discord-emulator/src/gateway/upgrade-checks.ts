import { GatewayCloseCodes as C } from 'discord-api-types/v10'

/** Which listener a WebSocket came in on: the main gateway origin or the resume origin. */
export type GatewayOrigin = 'gateway' | 'resume'

/**
 * The HTTP answer refusing an upgrade, or null to accept it: 503 while the emulator refuses
 * connections, 404 for a path the origin does not serve. Both origins are bare; the gateway
 * origin also keeps the old `/resume` path, which resume URLs persisted by earlier emulator
 * versions still name.
 */
export function upgradeRefusal(url: URL, origin: GatewayOrigin, refusing: boolean): string | null {
  if (refusing) {
    return 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
  }
  const path = url.pathname
  const known =
    path === '/' || (origin === 'gateway' && (path === '/resume' || path === '/resume/'))
  if (!known) return 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
  return null
}

/**
 * Why a new connection is closed at once for its query, or null: an API version other than 10
 * (4012), or an encoding other than JSON or transport compression (4002: only plain JSON is
 * emulated, no ETF, no zlib-stream).
 */
export function queryRefusal(url: URL): { code: number; reason: string } | null {
  const v = url.searchParams.get('v')
  const encoding = url.searchParams.get('encoding') ?? 'json'
  if (v !== null && v !== '10') return { code: C.InvalidAPIVersion, reason: 'Invalid API version' }
  if (encoding !== 'json' || url.searchParams.has('compress')) {
    return { code: C.DecodeError, reason: 'Unsupported encoding or compression' }
  }
  return null
}
