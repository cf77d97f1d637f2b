/** Tunables of the presence service (all have production defaults). */
export interface PresenceServiceOptions {
  /** Sockets one user may hold open at once. @defaultValue 5 */
  maxSocketsPerUser: number
  /** Rooms one socket may subscribe to. @defaultValue 8 */
  maxSubscriptionsPerSocket: number
  /** Bytes a socket may have queued before it is closed with 4009. @defaultValue 1 MiB */
  maxBufferedBytes: number
  /** Interval of server protocol pings; a socket with no pong by the next one is closed. @defaultValue 25_000 */
  pingIntervalMs: number
  /** Frames a socket may send per second, sustained. @defaultValue 10 */
  ratePerSecond: number
  /** Frames a socket may send in a burst. @defaultValue 20 */
  rateBurst: number
  /** Invalid frames a socket may send before it is closed with 4002. @defaultValue 10 */
  maxBadFrames: number
  /** After a server close, the socket is terminated if the client has not closed by then. @defaultValue 5_000 */
  closeGraceMs: number
  /** Epoch-ms clock for ts and latency. @defaultValue performance.timeOrigin + performance.now() */
  now: () => number
}

export const DEFAULT_PRESENCE_OPTIONS = {
  maxSocketsPerUser: 5,
  maxSubscriptionsPerSocket: 8,
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 25_000,
  ratePerSecond: 10,
  rateBurst: 20,
  maxBadFrames: 10,
  closeGraceMs: 5_000,
  now: () => performance.timeOrigin + performance.now(),
} as const satisfies PresenceServiceOptions
