import { isIP } from 'node:net'

/**
 * The address a request came from, for per-address limits. With `trustedProxyHops` 0 (no reverse
 * proxy) it is the socket's peer; with n proxies in front, each appending the address it saw to
 * `X-Forwarded-For`, it is the n-th entry from the right (what the outermost proxy saw): entries
 * further left are whatever the client wrote and are never trusted. Null when unknown.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null,
  trustedProxyHops: number,
): string | null {
  if (trustedProxyHops <= 0) return normalise(peer)
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  // Fewer entries than proxies: the request did not come through all of them.
  if (hops.length < trustedProxyHops) return normalise(peer)
  return normalise(hops[hops.length - trustedProxyHops])
}

function normalise(address: string | undefined): string | null {
  if (!address) return null
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address
  return isIP(bare) ? bare : null
}
