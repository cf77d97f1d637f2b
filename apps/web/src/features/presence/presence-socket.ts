import type { Peer } from 'crossws'
import type { SessionUser } from '../../server/ports'
import type { TokenBucket } from '../../server/token-bucket'
import type { BusFrame } from './event-bus'

/**
 * What the presence service keeps per open socket (socket-registry.server.ts creates it). There
 * are 10,000 of these in the benchmark: fields are plain values, and nothing per socket is a
 * closure.
 */
export interface PresenceSocket {
  readonly peer: Peer
  readonly user: SessionUser
  /** The login session it was opened with (null when the authenticator names none): its end closes the socket. */
  readonly sessionId: string | null
  /** Its room subscriptions: at most maxSubscriptionsPerSocket (8), usually one; a list is lighter than a Map. */
  readonly subs: RoomSubscription[]
  /** Its message rate limit. */
  readonly bucket: TokenBucket
  /** Invalid frames it sent so far. */
  badFrames: number
  /** Whether it answered (pong or any message) since the last protocol ping. */
  alive: boolean
  /** Set once the server closes it: nothing more is written to it. */
  closing: boolean
  /** Which group of the ping schedule the socket is in. */
  readonly pingSlot: number
  /** It follows its user's rooms (rooms.follow); the rooms of the last rooms.list it was sent. */
  following: boolean
  roomsSent: string | null
}

/** One socket's subscription to one room (room-subscriptions.server.ts). */
export interface RoomSubscription {
  readonly roomId: string
  readonly socket: PresenceSocket
  /** Frames that arrived while the subscription was being set up; null once it is live. */
  buffer: BusFrame[] | null
  /** The last seq the socket was given (snapshot or frame) for this room. */
  lastSeq: number
  /** `page`: the room page is open (the user counts as here); `summary`: a list of rooms. */
  readonly mode: 'page' | 'summary'
  /** The viewers (joined ids) the socket was last told for this room. */
  viewersSent: string | null
  /** The room stream's epoch that `lastSeq` belongs to ('' until the first sync). */
  epoch: string
  /** Counts the syncs (subscribe, server resync): only the latest one may finish. */
  sync: number
}
