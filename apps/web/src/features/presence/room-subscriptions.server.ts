import type { Profile } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { RoomDirectory, ViewerRegistry, VoicePresence } from '../../server/ports'
import type { BusFrame, EventBus, StreamPosition } from './event-bus'
import { type LocalRoom, LocalRooms } from './local-rooms.server'
import type { PresenceMetrics } from './presence-metrics.server'
import type { PresenceSocket, RoomSubscription } from './presence-socket'
import { ResyncRetry } from './resync-retry'
import { profileFrame, snapshotFrame, subscribedFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'
import { fanOut, releaseBuffered, roomAudience, sendInOrder } from './subscription-frames.server'
import { ViewersAnnouncer } from './viewers-announcer.server'

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

/** How {@link RoomSubscriptions.resync} brings sockets back in step. */
export type ResyncMode = 'resume' | 'snapshot'

/**
 * Room subscriptions: a subscribe is authorised per room (RoomDirectory.roomAccess), resumes from
 * the bus history or falls back to a snapshot taken so that nothing is missed or doubled, and
 * then gets the room's live frames. Each room has one bus subscription on this node, whose
 * frames are fanned out, serialised once, to the room's sockets.
 */
export class RoomSubscriptions {
  readonly #local: LocalRooms
  readonly #viewers: ViewersAnnouncer
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
    this.#local = new LocalRooms({
      bus: deps.bus,
      viewers: deps.viewers,
      metrics: deps.metrics,
      deliver: (roomId, frame) => this.#deliver(roomId, frame),
    })
    this.#viewers = new ViewersAnnouncer({
      viewers: deps.viewers,
      rooms: this.#local,
      sockets: deps.sockets,
      now: deps.now,
    })
  }

  /** Active subscriptions over all sockets. */
  get count(): number {
    return this.#local.count
  }

  /** Sockets on this node with the room's page open (summary subscriptions do not count). */
  viewerCount(roomId: string): number {
    return this.#local.viewerCount(roomId)
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
    if (!this.#local.find(socket, roomId) && socket.subs.length >= this.#maxPerSocket) {
      this.#sockets.sendError(socket, roomId, 'RATE_LIMITED', 'Too many rooms on one connection.')
      return
    }
    // Live frames are buffered from here on, so nothing published from now on can be missed.
    const { sub, ready } = this.#local.add(socket, roomId, mode)
    if ((await this.#sync(sub, ready, since, epoch, true)) === 'failed') {
      this.#local.remove(sub)
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
    const rooms = roomIds === 'all' ? this.#local.roomIds() : [...new Set(roomIds)]
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
    this.#viewers.stop()
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
          const viewers = this.#viewers.viewersOf(sub)
          if (announce) {
            this.#sockets.send(
              socket,
              subscribedFrame(roomId, since, this.#now(), true, history.epoch, viewers),
            )
          }
          sub.lastSeq = since
          sub.epoch = history.epoch
          for (const frame of history.frames) sendInOrder(this.#sockets, sub, frame)
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
        this.#local.remove(sub)
        this.#sockets.sendError(socket, roomId, 'FORBIDDEN', 'You are not a player of this room.')
        return 'gone'
      }
      const members = this.#voice.channelMembers(access.channelId)
      const ts = this.#now()
      const { seq } = position
      const viewers = this.#viewers.viewersOf(sub)
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
    const sub = this.#local.find(socket, roomId)
    if (sub) this.#local.remove(sub)
  }

  /** Ends every subscription of the socket (it closed). */
  removeAll(socket: PresenceSocket): void {
    for (const sub of [...socket.subs]) this.#local.remove(sub)
  }

  // One frame to the room's subscriptions (subscription-frames.server.ts). Metrics are recorded
  // once per frame (count of writes; latency at the last write), not per socket.
  #deliver(roomId: string, busFrame: BusFrame): void {
    const local = this.#local.get(roomId)
    if (!local) return
    if (busFrame.epoch !== local.epoch) this.#epochChanged(roomId, local, busFrame.epoch)
    const { frame } = busFrame
    const sent = fanOut(this.#sockets, local.subs, busFrame)
    if (sent > 0) {
      this.#metrics.framesSent.inc({ type: frame.type }, sent)
      if ('receivedAt' in frame) this.#metrics.observeLatencyMs(this.#now() - frame.receivedAt)
    }
    if (frame.type === 'room.deleted') {
      for (const sub of [...local.subs]) this.#local.remove(sub)
    } else if (frame.type === 'room.updated') {
      // A player or spectator who was removed stops receiving the room's stream at once.
      const allowed = roomAudience(frame.state)
      for (const sub of [...local.subs]) {
        if (!allowed.has(sub.socket.user.userId)) {
          this.#local.remove(sub)
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

  /** Lets the subscription's live frames through, after what was buffered during the setup. */
  #goLive(sub: RoomSubscription): void {
    releaseBuffered(this.#sockets, sub)
    // The room stream restarted while this socket was set up at its old epoch.
    const local = this.#local.get(sub.roomId)
    if (local?.epoch && local.epoch !== sub.epoch)
      this.#epochChanged(sub.roomId, local, local.epoch)
  }
}
