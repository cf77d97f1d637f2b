import type { Logger } from 'pino'
import type { RoomDirectory, VoicePresence } from '../../server/ports'
import type { BusFrame, BusSubscription, EventBus, ReplayFrame } from './event-bus'
import type { PresenceMetrics } from './presence-metrics.server'
import type { PresenceSocket, RoomSubscription } from './presence-socket'
import { snapshotFrame, subscribedFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'

/** What {@link RoomSubscriptions} needs. */
export interface RoomSubscriptionsDeps {
  bus: EventBus
  rooms: RoomDirectory
  voice: Pick<VoicePresence, 'channelMembers'>
  sockets: SocketRegistry
  metrics: PresenceMetrics
  logger: Logger
  /** Rooms one socket may subscribe to. */
  maxPerSocket: number
  /** Epoch-ms clock for ts and latency. */
  now: () => number
}

/** The room's subscriptions on this node, sharing one bus subscription. */
interface LocalRoom {
  readonly subs: Set<RoomSubscription>
  readonly subscription: BusSubscription
}

/**
 * Room subscriptions: a subscribe is authorised per room (RoomDirectory.roomAccess), resumes from
 * the bus history or falls back to a snapshot taken so that nothing is missed or doubled, and
 * then gets the room's live frames. Each room has one bus subscription on this node, whose
 * frames are fanned out, serialised once, to the room's sockets.
 */
export class RoomSubscriptions {
  readonly #local = new Map<string, LocalRoom>()
  #count = 0
  readonly #bus: EventBus
  readonly #rooms: RoomDirectory
  readonly #voice: Pick<VoicePresence, 'channelMembers'>
  readonly #sockets: SocketRegistry
  readonly #metrics: PresenceMetrics
  readonly #logger: Logger
  readonly #maxPerSocket: number
  readonly #now: () => number

  constructor(deps: RoomSubscriptionsDeps) {
    this.#bus = deps.bus
    this.#rooms = deps.rooms
    this.#voice = deps.voice
    this.#sockets = deps.sockets
    this.#metrics = deps.metrics
    this.#logger = deps.logger
    this.#maxPerSocket = deps.maxPerSocket
    this.#now = deps.now
  }

  /** Active subscriptions over all sockets. */
  get count(): number {
    return this.#count
  }

  /** Sockets on this node subscribed to the room. */
  viewerCount(roomId: string): number {
    return this.#local.get(roomId)?.subs.size ?? 0
  }

  /**
   * Subscribes the socket to the room: `subscribed`, then the frames after `since` (resume) or a
   * snapshot, then the live frames. Refusals and failures answer with an error frame.
   */
  async subscribe(
    socket: PresenceSocket,
    roomId: string,
    since: number | undefined,
    epoch: string | undefined,
  ): Promise<void> {
    const userId = socket.user.userId
    if (!this.#rooms.roomAccess(roomId, userId)) {
      this.#sockets.sendError(socket, roomId, 'FORBIDDEN', 'You are not a player of this room.')
      return
    }
    if (!this.#find(socket, roomId) && socket.subs.length >= this.#maxPerSocket) {
      this.#sockets.sendError(socket, roomId, 'RATE_LIMITED', 'Too many rooms on one connection.')
      return
    }
    // Live frames are buffered from here on, so nothing published from now on can be missed.
    const { sub, ready } = this.#add(socket, roomId)
    const current = () => !socket.closing && socket.subs.includes(sub)
    try {
      await ready
      if (!current()) return
      if (since !== undefined) {
        const history = await this.#bus.history(roomId, since, epoch)
        if (!current()) return
        if (history.ok) {
          this.#sockets.send(
            socket,
            subscribedFrame(roomId, since, this.#now(), true, history.epoch),
          )
          sub.lastSeq = since
          for (const frame of history.frames) this.#sendInOrder(sub, frame)
          this.#goLive(sub)
          this.#metrics.subscribes.inc({ mode: 'resume' })
          return
        }
      }
      // Snapshot: capture the stream position, then read the state in the same tick (no event
      // can be applied in between); frames after the position are then delivered on top.
      const position = await this.#bus.position(roomId)
      if (!current()) return
      const access = this.#rooms.roomAccess(roomId, userId)
      if (!access) {
        this.#remove(sub)
        this.#sockets.sendError(socket, roomId, 'FORBIDDEN', 'You are not a player of this room.')
        return
      }
      const members = this.#voice.channelMembers(access.channelId)
      const ts = this.#now()
      const { seq } = position
      this.#sockets.send(socket, subscribedFrame(roomId, seq, ts, false, position.epoch))
      this.#sockets.send(socket, snapshotFrame(roomId, seq, ts, position.epoch, access, members))
      sub.lastSeq = seq
      this.#goLive(sub)
      this.#metrics.subscribes.inc({ mode: 'snapshot' })
    } catch (error) {
      this.#logger.error({ err: error, roomId }, 'presence subscribe failed')
      if (current()) {
        this.#remove(sub)
        this.#sockets.sendError(socket, roomId, 'INTERNAL', 'Could not subscribe; try again.')
      }
    }
  }

  /** Ends the socket's subscription to the room, if it has one. */
  unsubscribe(socket: PresenceSocket, roomId: string): void {
    const sub = this.#find(socket, roomId)
    if (sub) this.#remove(sub)
  }

  /** Ends every subscription of the socket (it closed). */
  removeAll(socket: PresenceSocket): void {
    for (const sub of [...socket.subs]) this.#remove(sub)
  }

  // The hot path: one frame, already serialised, to every live subscriber of the room, encoded
  // to UTF-8 once and written as the same bytes to each socket. Metrics are recorded once per
  // frame (count of writes; latency at the last write), not per socket.
  #deliver(roomId: string, busFrame: BusFrame): void {
    const local = this.#local.get(roomId)
    if (!local) return
    const { frame, text } = busFrame
    let bytes: Buffer | undefined
    let sent = 0
    for (const sub of local.subs) {
      if (sub.buffer) {
        sub.buffer.push(busFrame)
        continue
      }
      if (frame.seq <= sub.lastSeq) continue
      sub.lastSeq = frame.seq
      bytes ??= Buffer.from(text)
      if (this.#sockets.write(sub.socket, bytes)) sent++
    }
    if (sent > 0) {
      this.#metrics.framesSent.inc({ type: frame.type }, sent)
      if ('receivedAt' in frame) this.#metrics.observeLatencyMs(this.#now() - frame.receivedAt)
    }
    if (frame.type === 'room.deleted') {
      for (const sub of [...local.subs]) this.#remove(sub)
    } else if (frame.type === 'room.updated') {
      // A player who was removed stops receiving the room's stream at once.
      const allowed = new Set(frame.state.players.map((p) => p.userId))
      allowed.add(frame.state.ownerId)
      for (const sub of [...local.subs]) {
        if (!allowed.has(sub.socket.user.userId)) {
          this.#remove(sub)
          this.#sockets.sendError(
            sub.socket,
            roomId,
            'FORBIDDEN',
            'You are no longer a player of this room.',
          )
        }
      }
    }
  }

  #add(socket: PresenceSocket, roomId: string): { sub: RoomSubscription; ready: Promise<void> } {
    const previous = this.#find(socket, roomId)
    if (previous) this.#remove(previous)
    const sub: RoomSubscription = { roomId, socket, buffer: [], lastSeq: 0 }
    socket.subs.push(sub)
    this.#count++
    this.#metrics.subscriptions.set(this.#count)
    let local = this.#local.get(roomId)
    if (!local) {
      local = {
        subs: new Set(),
        subscription: this.#bus.subscribe(roomId, (frame) => this.#deliver(roomId, frame)),
      }
      this.#local.set(roomId, local)
    }
    local.subs.add(sub)
    return { sub, ready: local.subscription.ready }
  }

  #find(socket: PresenceSocket, roomId: string): RoomSubscription | undefined {
    return socket.subs.find((sub) => sub.roomId === roomId)
  }

  #remove(sub: RoomSubscription): void {
    const { subs } = sub.socket
    const index = subs.indexOf(sub)
    if (index < 0) return
    subs.splice(index, 1)
    this.#count--
    this.#metrics.subscriptions.set(this.#count)
    const local = this.#local.get(sub.roomId)
    if (!local) return
    local.subs.delete(sub)
    if (local.subs.size === 0) {
      this.#local.delete(sub.roomId)
      local.subscription.unsubscribe()
    }
  }

  /** Sends what was buffered during the setup, then lets live frames through. */
  #goLive(sub: RoomSubscription): void {
    const buffered = sub.buffer ?? []
    sub.buffer = null
    for (const { frame, text } of buffered) {
      const receivedAt = 'receivedAt' in frame ? frame.receivedAt : undefined
      this.#sendInOrder(sub, { seq: frame.seq, type: frame.type, text }, receivedAt)
    }
  }

  // A replayed or buffered frame: anything at or before the socket's position is skipped (the
  // replay and the subscribe-time buffer can overlap).
  #sendInOrder(sub: RoomSubscription, frame: ReplayFrame, receivedAt?: number): void {
    if (frame.seq <= sub.lastSeq) return
    sub.lastSeq = frame.seq
    this.#sockets.sendText(sub.socket, frame.text, frame.type, receivedAt)
  }
}
