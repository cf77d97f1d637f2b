import type { Profile } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { RoomDirectory, ViewerRegistry, VoicePresence } from '../../server/ports'
import type { BusFrame, BusSubscription, EventBus, ReplayFrame, StreamPosition } from './event-bus'
import type { PresenceMetrics } from './presence-metrics.server'
import type { PresenceSocket, RoomSubscription } from './presence-socket'
import { ResyncRetry } from './resync-retry'
import { profileFrame, snapshotFrame, subscribedFrame, viewersFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'

/**
 * Viewer changes of one room are sent together, this long after the first: a reconnect storm
 * changes a room's viewers many times, its browsers need only the outcome.
 */
const VIEWERS_COALESCE_MS = 100

/** What {@link RoomSubscriptions} needs. */
export interface RoomSubscriptionsDeps {
  bus: EventBus
  /** Where page subscriptions are counted (who is here, across nodes). */
  viewers: ViewerRegistry
  rooms: RoomDirectory
  voice: Pick<VoicePresence, 'channelMembers' | 'caughtUp'>
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
  /** Page subscriptions among `subs` (the room's viewers on this node). */
  pages: number
  /** The epoch of the last frame delivered (null before the first). */
  epoch: string | null
}

/** How {@link RoomSubscriptions.resync} brings sockets back in step. */
export type ResyncMode = 'resume' | 'snapshot'

/**
 * Room subscriptions: a subscribe is authorised per room (RoomDirectory.roomAccess), resumes from
 * the bus history or falls back to a snapshot taken so that nothing is missed or doubled, and
 * then gets the room's live frames. Each room has one bus subscription on this node, whose
 * frames are fanned out, serialised once, to the room's sockets.
 */
export class RoomSubscriptions {
  readonly #local = new Map<string, LocalRoom>()
  #count = 0
  readonly #viewers: ViewerRegistry
  /** Rooms whose viewers changed and are to be told to this node's sockets. */
  readonly #viewersDirty = new Set<string>()
  #viewersTimer: ReturnType<typeof setTimeout> | null = null
  readonly #unwatchViewers: () => void
  readonly #bus: EventBus
  readonly #rooms: RoomDirectory
  readonly #voice: Pick<VoicePresence, 'channelMembers' | 'caughtUp'>
  readonly #sockets: SocketRegistry
  readonly #metrics: PresenceMetrics
  readonly #logger: Logger
  readonly #maxPerSocket: number
  readonly #now: () => number
  /** Rooms whose resync failed, retried with a snapshot. */
  readonly #retry = new ResyncRetry((rooms) => void this.resync(rooms, 'snapshot'))

  constructor(deps: RoomSubscriptionsDeps) {
    this.#bus = deps.bus
    this.#rooms = deps.rooms
    this.#voice = deps.voice
    this.#sockets = deps.sockets
    this.#metrics = deps.metrics
    this.#logger = deps.logger
    this.#maxPerSocket = deps.maxPerSocket
    this.#now = deps.now
    this.#viewers = deps.viewers
    this.#unwatchViewers = this.#viewers.onChange((roomId) => {
      if (!this.#local.has(roomId)) return
      this.#viewersDirty.add(roomId)
      this.#viewersTimer ??= setTimeout(() => this.#flushViewers(), VIEWERS_COALESCE_MS)
    })
  }

  /** Active subscriptions over all sockets. */
  get count(): number {
    return this.#count
  }

  /** Sockets on this node with the room's page open (summary subscriptions do not count). */
  viewerCount(roomId: string): number {
    return this.#local.get(roomId)?.pages ?? 0
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
    mode: 'page' | 'summary' = 'page',
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
    const { sub, ready } = this.#add(socket, roomId, mode)
    if ((await this.#sync(sub, ready, since, epoch, true)) === 'failed') {
      this.#remove(sub)
      this.#sockets.sendError(socket, roomId, 'INTERNAL', 'Could not subscribe; try again.')
    }
  }

  /**
   * Brings this node's subscribers of the rooms back in step on the server's initiative, through
   * the same paths as a subscribe: `resume` replays to each socket behind its room stream what it
   * missed (a snapshot when the history no longer has it or the stream restarted: a new epoch);
   * `snapshot` sends each one a fresh snapshot (the voice state changed in ways the stream did not
   * carry). Rooms where the bus failed are retried with a snapshot, with a growing delay.
   */
  async resync(roomIds: Iterable<string> | 'all', mode: ResyncMode): Promise<void> {
    const rooms = roomIds === 'all' ? [...this.#local.keys()] : [...new Set(roomIds)]
    const results = await Promise.all(rooms.map((roomId) => this.#resyncRoom(roomId, mode)))
    const failed = rooms.filter((_, i) => !results[i])
    if (failed.length === 0) this.#retry.succeeded()
    else this.#retry.failed(failed)
  }

  /** Resyncs the room with a snapshot shortly (with the failed ones: a publish to it failed). */
  resyncSoon(roomId: string): void {
    if (this.#local.has(roomId)) this.#retry.failed([roomId])
  }

  /** Stops the resync retries and telling viewer changes (the service is stopping). */
  stop(): void {
    this.#retry.stop()
    this.#unwatchViewers()
    if (this.#viewersTimer) clearTimeout(this.#viewersTimer)
    this.#viewersTimer = null
  }

  async #resyncRoom(roomId: string, mode: ResyncMode): Promise<boolean> {
    const local = this.#local.get(roomId)
    if (!local) return true
    let subs = [...local.subs]
    let position: StreamPosition | null = null
    if (mode === 'resume') {
      try {
        position = await this.#bus.position(roomId)
      } catch (error) {
        this.#logger.warn({ err: error, roomId }, 'presence resync: the bus is unavailable')
        return false
      }
      const at = position
      // Sockets already at the stream's end have missed nothing; those being set up catch up.
      subs = subs.filter((sub) => !sub.buffer && (sub.epoch !== at.epoch || sub.lastSeq < at.seq))
    }
    this.#metrics.resyncs.inc({ mode }, subs.length)
    const outcomes = await Promise.all(
      subs.map((sub) =>
        position && sub.epoch === position.epoch
          ? this.#sync(sub, local.subscription.ready, sub.lastSeq, sub.epoch, false)
          : this.#sync(sub, local.subscription.ready, undefined, undefined, false),
      ),
    )
    return !outcomes.includes('failed')
  }

  /**
   * Sets the socket up in the room stream: the frames after `since` when the history still holds
   * them, else a snapshot, then the frames buffered meanwhile. `announce`: a client's subscribe,
   * answered with `subscribed` first. Only the latest sync of a subscription may finish.
   */
  async #sync(
    sub: RoomSubscription,
    ready: Promise<void>,
    since: number | undefined,
    epoch: string | undefined,
    announce: boolean,
  ): Promise<'resume' | 'snapshot' | 'gone' | 'failed'> {
    const { socket, roomId } = sub
    const attempt = ++sub.sync
    // Live frames wait in the buffer until this sync decides where the socket continues.
    sub.buffer ??= []
    const current = () => !socket.closing && socket.subs.includes(sub) && sub.sync === attempt
    try {
      await ready
      if (!current()) return 'gone'
      if (since !== undefined) {
        const history = await this.#bus.history(roomId, since, epoch)
        if (!current()) return 'gone'
        if (history.ok) {
          const viewers = this.#viewersOf(sub)
          if (announce) {
            this.#sockets.send(
              socket,
              subscribedFrame(roomId, since, this.#now(), true, history.epoch, viewers),
            )
          }
          sub.lastSeq = since
          sub.epoch = history.epoch
          for (const frame of history.frames) this.#sendInOrder(sub, frame)
          this.#goLive(sub)
          if (announce) this.#metrics.subscribes.inc({ mode: 'resume' })
          return 'resume'
        }
      }
      // Snapshot: capture the stream position, then read the state in the same tick (no event
      // can be applied in between); frames after the position are then delivered on top. With
      // several nodes, this node's voice mirror first applies what the voice stream held by then,
      // so it includes every change another node may have published up to the position (changes
      // applied after it arrive as frames too, which re-apply harmlessly: upserts and removals).
      const position = await this.#bus.position(roomId)
      if (!current()) return 'gone'
      if (this.#voice.caughtUp) {
        await this.#voice.caughtUp()
        if (!current()) return 'gone'
      }
      const access = this.#rooms.roomAccess(roomId, socket.user.userId)
      if (!access) {
        this.#remove(sub)
        this.#sockets.sendError(socket, roomId, 'FORBIDDEN', 'You are not a player of this room.')
        return 'gone'
      }
      const members = this.#voice.channelMembers(access.channelId)
      const ts = this.#now()
      const { seq } = position
      const viewers = this.#viewersOf(sub)
      if (announce) {
        this.#sockets.send(socket, subscribedFrame(roomId, seq, ts, false, position.epoch))
      }
      this.#sockets.send(
        socket,
        snapshotFrame(roomId, seq, ts, position.epoch, access, members, viewers),
      )
      sub.lastSeq = seq
      sub.epoch = position.epoch
      this.#goLive(sub)
      if (announce) this.#metrics.subscribes.inc({ mode: 'snapshot' })
      return 'snapshot'
    } catch (error) {
      this.#logger.error({ err: error, roomId, announce }, 'presence subscribe failed')
      return current() ? 'failed' : 'gone'
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
    if (busFrame.epoch !== local.epoch) this.#epochChanged(roomId, local, busFrame.epoch)
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
      // A player or spectator who was removed stops receiving the room's stream at once.
      const allowed = new Set(frame.state.players.map((p) => p.userId))
      allowed.add(frame.state.ownerId)
      for (const spectator of frame.state.spectators ?? []) allowed.add(spectator.userId)
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

  /**
   * The room stream restarted (Redis lost it, or it expired): its seqs start again at 1, so the
   * sockets that follow the old epoch would skip the new frames as already seen. Each gets a
   * snapshot of the new epoch; this frame and the next wait in its buffer meanwhile.
   */
  #epochChanged(roomId: string, local: LocalRoom, epoch: string): void {
    local.epoch = epoch
    const stale = [...local.subs].filter((sub) => !sub.buffer && sub.epoch !== epoch)
    if (stale.length === 0) return
    this.#logger.info({ roomId, sockets: stale.length }, 'room stream restarted: resyncing')
    this.#metrics.resyncs.inc({ mode: 'snapshot' }, stale.length)
    for (const sub of stale) {
      void this.#sync(sub, local.subscription.ready, undefined, undefined, false).then(
        (outcome) => {
          if (outcome === 'failed') this.#retry.failed([roomId])
        },
      )
    }
  }

  #add(
    socket: PresenceSocket,
    roomId: string,
    mode: 'page' | 'summary',
  ): { sub: RoomSubscription; ready: Promise<void> } {
    const previous = this.#find(socket, roomId)
    if (previous) this.#remove(previous)
    const sub: RoomSubscription = {
      roomId,
      socket,
      buffer: [],
      lastSeq: 0,
      epoch: '',
      sync: 0,
      mode,
      viewersSent: null,
    }
    socket.subs.push(sub)
    this.#count++
    this.#metrics.subscriptions.set(this.#count)
    let local = this.#local.get(roomId)
    if (!local) {
      local = {
        subs: new Set(),
        subscription: this.#bus.subscribe(roomId, (frame) => this.#deliver(roomId, frame)),
        epoch: null,
        pages: 0,
      }
      this.#local.set(roomId, local)
    }
    local.subs.add(sub)
    if (mode === 'page') {
      local.pages++
      this.#viewers.open(roomId, socket.user.userId)
    }
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
    if (sub.mode === 'page') {
      local.pages--
      this.#viewers.close(sub.roomId, sub.socket.user.userId)
    }
    if (local.subs.size === 0) {
      this.#local.delete(sub.roomId)
      local.subscription.unsubscribe()
    }
  }
  /** The room's viewers for a subscription's subscribed/snapshot frame, noted as told. */
  #viewersOf(sub: RoomSubscription): readonly string[] {
    const viewers = this.#viewers.viewers(sub.roomId)
    sub.viewersSent = viewers.join(',')
    return viewers
  }

  /** Tells this node's live subscriptions of the changed rooms who is here now. */
  #flushViewers(): void {
    this.#viewersTimer = null
    const rooms = [...this.#viewersDirty]
    this.#viewersDirty.clear()
    for (const roomId of rooms) {
      const local = this.#local.get(roomId)
      if (!local) continue
      const viewers = this.#viewers.viewers(roomId)
      const key = viewers.join(',')
      let text: string | undefined
      for (const sub of local.subs) {
        // Still setting up: its subscribed or snapshot frame will carry the viewers.
        if (sub.buffer !== null || sub.viewersSent === key) continue
        sub.viewersSent = key
        text ??= JSON.stringify(viewersFrame(roomId, this.#now(), viewers))
        this.#sockets.sendText(sub.socket, text, 'room.viewers')
      }
    }
  }

  /**
   * A user's new display data to this node's live subscriptions of a room (unnumbered: every node
   * routes the same feed event to its own sockets, nothing goes through the bus).
   */
  sendProfile(roomId: string, userId: string, profile: Profile): void {
    const local = this.#local.get(roomId)
    if (!local) return
    const text = JSON.stringify(profileFrame(roomId, this.#now(), userId, profile))
    for (const sub of local.subs) {
      if (sub.buffer === null) this.#sockets.sendText(sub.socket, text, 'profile.updated')
    }
  }

  /** Sends what was buffered during the setup, then lets live frames through. */
  #goLive(sub: RoomSubscription): void {
    const buffered = sub.buffer ?? []
    sub.buffer = null
    for (const { frame, text, epoch } of buffered) {
      // Frames of another life of the room stream (buffered across a restart) do not continue it.
      if (epoch !== sub.epoch) continue
      const receivedAt = 'receivedAt' in frame ? frame.receivedAt : undefined
      this.#sendInOrder(sub, { seq: frame.seq, type: frame.type, text }, receivedAt)
    }
    // The room stream restarted while this socket was set up at its old epoch.
    const local = this.#local.get(sub.roomId)
    if (local?.epoch && local.epoch !== sub.epoch)
      this.#epochChanged(sub.roomId, local, local.epoch)
  }

  // A replayed or buffered frame: anything at or before the socket's position is skipped (the
  // replay and the subscribe-time buffer can overlap).
  #sendInOrder(sub: RoomSubscription, frame: ReplayFrame, receivedAt?: number): void {
    if (frame.seq <= sub.lastSeq) return
    sub.lastSeq = frame.seq
    this.#sockets.sendText(sub.socket, frame.text, frame.type, receivedAt)
  }
}
