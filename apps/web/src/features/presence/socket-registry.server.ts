import {
  PresenceCloseCode,
  type ServerFrame,
  type WsErrorCode,
} from '@repo/discord-integration/contracts'
import type { Peer } from 'crossws'
import type { SessionUser } from '../../server/ports'
import { TokenBucket } from '../../server/token-bucket'
import type { DropReason, PresenceMetrics } from './presence-metrics.server'
import type { PresenceServiceOptions } from './presence-options'
import type { PresenceSocket } from './presence-socket'
import { errorFrame } from './server-frames'

const PING_PAYLOAD = 'tv-presence'
/**
 * How a frame's UTF-8 bytes are written: as a text frame (CrossWS would send a Buffer as binary).
 * No per-message compression is negotiated, so `compress` changes nothing on the wire.
 */
const TEXT_FRAME = { binary: false, compress: false }
/** The rate limiters' clock, one function for every socket. */
const monotonicNow = () => performance.now()
/**
 * Protocol pings go out in small groups, one group every PING_TICK_MS (at 10,000 sockets and the
 * default 25 s interval: 20 sockets per 50 ms). Each ping is a socket write; a few hundred in one
 * go stalled every frame in flight by 15-25 ms.
 */
const PING_TICK_MS = 50

/** How many groups the protocol pings of one interval are spread over (one group per tick). */
export function pingGroupCount(pingIntervalMs: number): number {
  return Math.max(1, Math.round(pingIntervalMs / PING_TICK_MS))
}

/** What {@link SocketRegistry} needs. */
export interface SocketRegistryDeps {
  metrics: PresenceMetrics
  options: Pick<
    PresenceServiceOptions,
    | 'maxSocketsPerUser'
    | 'maxBufferedBytes'
    | 'pingIntervalMs'
    | 'ratePerSecond'
    | 'rateBurst'
    | 'closeGraceMs'
    | 'now'
  >
  /** Called once for each socket that leaves the registry (closed, dropped, failed). */
  onForget: (socket: PresenceSocket) => void
}

/**
 * The open presence sockets: the per-user limit, the protocol ping schedule, writes with the
 * backpressure check, and drops (a close, then a terminate after the grace period).
 */
export class SocketRegistry {
  // Keyed by the peer object itself: CrossWS makes `peer.id` lazily (a random UUID held for the
  // socket's life), which 10,000 sockets need not pay for.
  readonly #sockets = new Map<Peer, PresenceSocket>()
  /** Each user's sockets, oldest first. */
  readonly #byUser = new Map<string, PresenceSocket[]>()
  /** The sockets of each login session, so that ending a session closes them. */
  readonly #bySession = new Map<string, Set<PresenceSocket>>()
  /** Sockets by ping group (see the ping timer). */
  readonly #pingSlots: Set<PresenceSocket>[]
  readonly #pingTimer: ReturnType<typeof setInterval>
  #nextSlot = 0
  #pingTick = 0
  #stopped = false
  readonly #metrics: PresenceMetrics
  readonly #opts: SocketRegistryDeps['options']
  readonly #maxBufferedBytes: number
  readonly #onForget: (socket: PresenceSocket) => void

  constructor(deps: SocketRegistryDeps) {
    this.#metrics = deps.metrics
    this.#opts = deps.options
    this.#maxBufferedBytes = deps.options.maxBufferedBytes
    this.#onForget = deps.onForget
    const groups = pingGroupCount(deps.options.pingIntervalMs)
    this.#pingSlots = Array.from({ length: groups }, () => new Set<PresenceSocket>())
    // Protocol pings are spread over the interval: every socket is pinged once per
    // pingIntervalMs, one small group per tick (see PING_TICK_MS), so 10,000 sockets never cost
    // one long synchronous loop.
    this.#pingTimer = setInterval(
      () => this.#pingNextGroup(),
      Math.max(1, deps.options.pingIntervalMs / groups),
    )
    this.#pingTimer.unref?.()
  }

  /** Open sockets. */
  get size(): number {
    return this.#sockets.size
  }

  /** Set by {@link stop}: the service accepts no more sockets. */
  get stopped(): boolean {
    return this.#stopped
  }

  /** The socket of a peer, if it is registered. */
  get(peer: Peer): PresenceSocket | undefined {
    return this.#sockets.get(peer)
  }

  /**
   * Registers a new socket of `user` (opened with login session `sessionId`, if known); beyond the
   * per-user limit, their oldest socket gives way.
   */
  open(peer: Peer, user: SessionUser, sessionId: string | null = null): PresenceSocket {
    const socket: PresenceSocket = {
      peer,
      user,
      sessionId,
      subs: [],
      bucket: new TokenBucket(this.#opts.ratePerSecond, this.#opts.rateBurst, monotonicNow),
      badFrames: 0,
      alive: true,
      closing: false,
      pingSlot: this.#nextSlot,
      following: false,
      roomsSent: null,
    }
    // After a flaky network the old sockets are usually dead but not yet detected, and the newest
    // is the one in use. (Dropping one removes it from `mine`, and the user's entry when that
    // empties; the entry is set again below.)
    const mine = this.#byUser.get(user.userId) ?? []
    const excess = Math.max(0, mine.length - this.#opts.maxSocketsPerUser + 1)
    for (const oldest of mine.slice(0, excess)) {
      this.drop(oldest, PresenceCloseCode.TooManySockets, 'too_many_sockets', 'too many sockets')
    }
    mine.push(socket)
    this.#byUser.set(user.userId, mine)
    if (sessionId !== null) {
      const ofSession = this.#bySession.get(sessionId) ?? new Set<PresenceSocket>()
      ofSession.add(socket)
      this.#bySession.set(sessionId, ofSession)
    }
    this.#sockets.set(peer, socket)
    this.#pingSlots[socket.pingSlot]?.add(socket)
    this.#nextSlot = (this.#nextSlot + 1) % this.#pingSlots.length
    this.#metrics.sockets.set(this.#sockets.size)
    return socket
  }

  /**
   * Writes one text frame, given as a string or as its UTF-8 bytes; false if the socket is
   * closing or the write failed. A socket that has queued too much is dropped (4009: it resumes).
   * No metrics: the callers count once per frame, not per socket.
   */
  write(socket: PresenceSocket, data: string | Buffer): boolean {
    if (socket.closing) return false
    try {
      if (typeof data === 'string') socket.peer.send(data)
      else socket.peer.send(data, TEXT_FRAME)
    } catch {
      return false
    }
    if (socket.peer.bufferedAmount > this.#maxBufferedBytes) {
      this.drop(
        socket,
        PresenceCloseCode.SlowConsumer,
        'slow_consumer',
        'too much buffered: resume',
      )
    }
    return true
  }

  /** Writes a frame's text and counts it; `receivedAt` (a live voice frame's) records its latency. */
  sendText(socket: PresenceSocket, text: string, type: string, receivedAt?: number): void {
    if (!this.write(socket, text)) return
    this.#metrics.framesSent.inc({ type })
    if (receivedAt !== undefined) this.#metrics.observeLatencyMs(this.#opts.now() - receivedAt)
  }

  /** Sends a frame the service built itself (server-frames.ts). */
  send(socket: PresenceSocket, frame: ServerFrame): void {
    this.sendText(socket, JSON.stringify(frame), frame.type)
  }

  /** Sends an error frame and counts it by code. */
  sendError(socket: PresenceSocket, room: string | null, code: WsErrorCode, message: string): void {
    this.#metrics.clientErrors.inc({ code })
    this.send(socket, errorFrame(room, code, message, this.#opts.now()))
  }

  /** Closes a socket from the server side (once); it is cut off if it does not answer in time. */
  drop(socket: PresenceSocket, code: number, reason: DropReason, text: string): void {
    if (socket.closing) return
    socket.closing = true
    this.#metrics.socketsDropped.inc({ reason })
    this.forget(socket)
    try {
      socket.peer.close(code, text)
    } catch {
      // already closed
    }
    // A client that never answers the close (stalled, gone) is cut off.
    setTimeout(() => {
      try {
        socket.peer.terminate()
      } catch {
        // already gone
      }
    }, this.#opts.closeGraceMs).unref?.()
  }

  /** Removes a socket (closed, dropped or failed) and everything kept for it. */
  forget(socket: PresenceSocket): void {
    this.#onForget(socket)
    if (this.#sockets.get(socket.peer) === socket) {
      this.#sockets.delete(socket.peer)
      this.#metrics.sockets.set(this.#sockets.size)
    }
    const mine = this.#byUser.get(socket.user.userId)
    const index = mine?.indexOf(socket) ?? -1
    if (mine && index >= 0) {
      mine.splice(index, 1)
      if (mine.length === 0) this.#byUser.delete(socket.user.userId)
    }
    if (socket.sessionId !== null) {
      const ofSession = this.#bySession.get(socket.sessionId)
      ofSession?.delete(socket)
      if (ofSession?.size === 0) this.#bySession.delete(socket.sessionId)
    }
    this.#pingSlots[socket.pingSlot]?.delete(socket)
  }

  /** The login sessions that have sockets open here. */
  sessionIds(): string[] {
    return [...this.#bySession.keys()]
  }

  /** Closes the sockets of login sessions that ended (4001: the page sends the user to sign in). */
  closeSessions(sessionIds: readonly string[]): void {
    for (const id of sessionIds) {
      const sockets = this.#bySession.get(id)
      if (!sockets) continue
      for (const socket of [...sockets]) {
        this.drop(socket, PresenceCloseCode.Unauthenticated, 'session_ended', 'session ended')
      }
    }
  }

  /** Stops the pings and closes every socket with 4012 (the clients reconnect and resume). */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#pingTimer)
    for (const socket of [...this.#sockets.values()]) {
      this.drop(socket, PresenceCloseCode.ShuttingDown, 'shutting_down', 'server restarting')
    }
  }

  /** Pings one group; a socket that has not answered since its last ping is dropped (4013). */
  #pingNextGroup(): void {
    const slot = this.#pingSlots[this.#pingTick]
    this.#pingTick = (this.#pingTick + 1) % this.#pingSlots.length
    if (!slot) return
    for (const socket of slot) {
      if (!socket.alive) {
        this.drop(socket, PresenceCloseCode.PingTimeout, 'ping_timeout', 'no pong')
        continue
      }
      socket.alive = false
      try {
        socket.peer.ping(PING_PAYLOAD)
      } catch {
        // reported through the error hook
      }
    }
  }
}
