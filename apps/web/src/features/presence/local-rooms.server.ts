import type { ViewerRegistry } from '../../server/ports'
import type { BusFrame, BusSubscription, EventBus } from './event-bus'
import type { PresenceMetrics } from './presence-metrics.server'
import type { PresenceSocket, RoomSubscription } from './presence-socket'

/** The room's subscriptions on this node, sharing one bus subscription. */
export interface LocalRoom {
  readonly subs: Set<RoomSubscription>
  readonly subscription: BusSubscription
  /** Page subscriptions among `subs` (the room's viewers on this node). */
  pages: number
  /** The epoch of the last frame delivered (null before the first). */
  epoch: string | null
}

/** What {@link LocalRooms} needs. */
export interface LocalRoomsDeps {
  bus: EventBus
  /** Where page subscriptions are counted (who is here, across nodes). */
  viewers: ViewerRegistry
  metrics: PresenceMetrics
  /** Where each room's live frames from its bus subscription go. */
  deliver: (roomId: string, frame: BusFrame) => void
}

/**
 * This node's room subscriptions: the one writer of the sockets' subscription lists, of each
 * room's set of subscriptions and page count, and of the rooms' bus subscriptions (one per room
 * with subscribers, ended with its last subscription).
 */
export class LocalRooms {
  readonly #rooms = new Map<string, LocalRoom>()
  #count = 0
  readonly #bus: EventBus
  readonly #viewers: ViewerRegistry
  readonly #metrics: PresenceMetrics
  readonly #deliver: (roomId: string, frame: BusFrame) => void

  constructor(deps: LocalRoomsDeps) {
    this.#bus = deps.bus
    this.#viewers = deps.viewers
    this.#metrics = deps.metrics
    this.#deliver = deps.deliver
  }

  /** Active subscriptions over all sockets. */
  get count(): number {
    return this.#count
  }

  /** The room's subscriptions on this node, if it has any. */
  get(roomId: string): LocalRoom | undefined {
    return this.#rooms.get(roomId)
  }

  has(roomId: string): boolean {
    return this.#rooms.has(roomId)
  }

  /** The rooms with subscriptions on this node. */
  roomIds(): string[] {
    return [...this.#rooms.keys()]
  }

  /** Sockets on this node with the room's page open (summary subscriptions do not count). */
  viewerCount(roomId: string): number {
    return this.#rooms.get(roomId)?.pages ?? 0
  }

  find(socket: PresenceSocket, roomId: string): RoomSubscription | undefined {
    return socket.subs.find((sub) => sub.roomId === roomId)
  }

  /**
   * A new subscription of the socket to the room (replacing one it had), buffering the room's
   * live frames until it is set up; `ready` settles when the room's bus subscription is.
   */
  add(
    socket: PresenceSocket,
    roomId: string,
    mode: 'page' | 'summary',
  ): { sub: RoomSubscription; ready: Promise<void> } {
    const previous = this.find(socket, roomId)
    if (previous) this.remove(previous)
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
    let local = this.#rooms.get(roomId)
    if (!local) {
      local = {
        subs: new Set(),
        subscription: this.#bus.subscribe(roomId, (frame) => this.#deliver(roomId, frame)),
        epoch: null,
        pages: 0,
      }
      this.#rooms.set(roomId, local)
    }
    local.subs.add(sub)
    if (mode === 'page') {
      local.pages++
      this.#viewers.open(roomId, socket.user.userId)
    }
    return { sub, ready: local.subscription.ready }
  }

  /** Ends the subscription (nothing if it already ended). */
  remove(sub: RoomSubscription): void {
    const { subs } = sub.socket
    const index = subs.indexOf(sub)
    if (index < 0) return
    subs.splice(index, 1)
    this.#count--
    this.#metrics.subscriptions.set(this.#count)
    const local = this.#rooms.get(sub.roomId)
    if (!local) return
    local.subs.delete(sub)
    if (sub.mode === 'page') {
      local.pages--
      this.#viewers.close(sub.roomId, sub.socket.user.userId)
    }
    if (local.subs.size === 0) {
      this.#rooms.delete(sub.roomId)
      local.subscription.unsubscribe()
    }
  }
}
