import type { ViewerRegistry } from '../../server/ports'
import type { LocalRooms } from './local-rooms.server'
import type { RoomSubscription } from './presence-socket'
import { viewersFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'

/**
 * Viewer changes of one room are sent together, this long after the first: a reconnect storm
 * changes a room's viewers many times, its browsers need only the outcome.
 */
const VIEWERS_COALESCE_MS = 100

/** What {@link ViewersAnnouncer} needs. */
export interface ViewersAnnouncerDeps {
  viewers: ViewerRegistry
  rooms: Pick<LocalRooms, 'get' | 'has'>
  sockets: SocketRegistry
  /** Epoch-ms clock for ts. */
  now: () => number
}

/**
 * Tells this node's live subscriptions who is here (room.viewers) when a room's viewers change,
 * coalesced per room, and only to sockets not already told the same viewers.
 */
export class ViewersAnnouncer {
  readonly #viewers: ViewerRegistry
  readonly #rooms: Pick<LocalRooms, 'get' | 'has'>
  readonly #sockets: SocketRegistry
  readonly #now: () => number
  /** Rooms whose viewers changed and are to be told to this node's sockets. */
  readonly #dirty = new Set<string>()
  #timer: ReturnType<typeof setTimeout> | null = null
  readonly #unwatch: () => void

  constructor(deps: ViewersAnnouncerDeps) {
    this.#viewers = deps.viewers
    this.#rooms = deps.rooms
    this.#sockets = deps.sockets
    this.#now = deps.now
    this.#unwatch = this.#viewers.onChange((roomId) => {
      if (!this.#rooms.has(roomId)) return
      this.#dirty.add(roomId)
      this.#timer ??= setTimeout(() => this.#flush(), VIEWERS_COALESCE_MS)
    })
  }

  /** The room's viewers for a subscription's subscribed/snapshot frame, noted as told. */
  viewersOf(sub: RoomSubscription): readonly string[] {
    const viewers = this.#viewers.viewers(sub.roomId)
    sub.viewersSent = viewers.join(',')
    return viewers
  }

  /** Stops telling viewer changes. */
  stop(): void {
    this.#unwatch()
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** Tells this node's live subscriptions of the changed rooms who is here now. */
  #flush(): void {
    this.#timer = null
    const rooms = [...this.#dirty]
    this.#dirty.clear()
    for (const roomId of rooms) {
      const local = this.#rooms.get(roomId)
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
}
