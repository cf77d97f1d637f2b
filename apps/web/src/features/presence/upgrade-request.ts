import type { Peer } from 'crossws'

/** The upgrade's `IncomingMessage` as CrossWS's Node peer holds it (crossws/adapters/node, 0.4). */
interface UpgradeMessage {
  readonly _context?: unknown
  readonly _namespace?: unknown
  readonly socket?: unknown
  readonly headers?: unknown
}

/** The part of CrossWS's Node peer this module touches. */
interface NodePeerInternals {
  _internal?: { nodeReq?: UpgradeMessage; request?: unknown; ws?: unknown }
}

/**
 * Lets go of the upgrade request once a socket is open. CrossWS's Node peer keeps, for the
 * socket's whole life, the upgrade's `IncomingMessage` (its headers twice over, as an object and
 * as raw strings, the cookie among them; its stream state; and, under Nitro, the srvx `Request`
 * parked on it as `_request`) and a `Request` proxy of it. Nothing reads them after `open`: the
 * presence service authenticates in `upgrade` and keeps what it needs in its own socket state.
 * Heap snapshots at 10,000 idle sockets put them at about 28 objects and 1.7 KiB per socket,
 * all of it for every major GC to mark.
 *
 * The peer keeps working: `send`, `close`, `terminate`, `ping` and `bufferedAmount` use only the
 * `ws` socket; `context` (also the key under which CrossWS caches the hooks it resolved for the
 * peer) and `remoteAddress` read a stand-in that holds just those. `peer.request` is undefined
 * from here on.
 * @returns whether the request was released (false when CrossWS changed shape; nothing is touched)
 */
export function releaseUpgradeRequest(peer: Peer): boolean {
  const internal = (peer as unknown as NodePeerInternals)._internal
  const nodeReq = internal?.nodeReq
  if (!internal?.ws || !nodeReq || !('_context' in nodeReq) || !nodeReq.headers) {
    return false
  }
  internal.nodeReq = {
    _context: nodeReq._context,
    _namespace: nodeReq._namespace,
    socket: nodeReq.socket,
  }
  internal.request = undefined
  return true
}
