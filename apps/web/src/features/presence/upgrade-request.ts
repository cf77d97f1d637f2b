import type { Peer } from 'crossws'

/** The part of CrossWS's Node peer this module touches (crossws/adapters/node, 0.4). */
interface NodePeerInternals {
  readonly _internal?: { readonly nodeReq?: { _request?: unknown } }
}

/**
 * Lets go of the upgrade request once a socket is open. CrossWS's Node adapter parks the
 * `Request` it resolved hooks with on the socket's `IncomingMessage` (`_request`) and never
 * reads it again, but the peer keeps that message for its whole life. Under Nitro that request
 * is srvx's, with its URL, headers, context and the upgrade's `head` buffer: about 2 KiB and
 * twenty objects per socket, which at 10,000 sockets is 20 MB more for every major GC to mark.
 * The peer's own `request` (a light proxy of the same message) and `context` stay.
 * @returns whether there was a request to release (false when CrossWS changed shape)
 */
export function releaseUpgradeRequest(peer: Peer): boolean {
  const nodeReq = (peer as Peer & NodePeerInternals)._internal?.nodeReq
  if (!nodeReq || !('_request' in nodeReq)) return false
  nodeReq._request = undefined
  return true
}
