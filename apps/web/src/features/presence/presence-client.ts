import {
  type ClientFrame,
  PROTOCOL_VERSION,
  PresenceCloseCode,
  type RoomSummary,
  type ServerFrame,
} from '@repo/discord-integration/contracts'
import {
  addListener,
  ClientRooms,
  modeOf,
  type RoomMode,
  setStream,
  subscribeFrame,
} from './client-rooms'
import {
  attachClientSocket,
  closeClientSocket,
  type SocketLike,
  sendOnSocket,
} from './client-socket'
import { watchNetwork } from './network-events'
import {
  type PresenceClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './presence-client-options'
import {
  type ConnectionStatus,
  type Effect,
  initialState,
  type MachineEvent,
  type MachineState,
  transition,
} from './presence-machine'
import { applyFrame, EMPTY_STREAM, type RoomStream, unsynced } from './room-stream'

export type { RoomMode } from './client-rooms'
export type { SocketLike } from './client-socket'
export type { PresenceClientOptions } from './presence-client-options'

/** Close code the client uses for a socket it considers dead (silent too long). */
const STALE_SOCKET = PresenceCloseCode.Internal

/**
 * One presence connection per page, shared by every component through reference counting.
 * It performs the effects of the pure machine (presence-machine.ts), keeps each room's stream
 * (room-stream.ts) and resumes with `since` after every reconnect.
 */
export class PresenceClient {
  readonly #opts: ResolvedClientOptions
  #machine: MachineState
  #socket: { generation: number; socket: SocketLike } | null = null
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null
  #heartbeat: ReturnType<typeof setInterval> | null = null
  #lastMessageAt = 0
  readonly #rooms = new ClientRooms()
  readonly #statusListeners = new Set<() => void>()
  /** Components following the user's own rooms (rooms.follow), and the last list. */
  #followers = 0
  #roomsList: readonly RoomSummary[] | null = null
  readonly #roomsListeners = new Set<() => void>()
  readonly #detachNetwork: () => void

  constructor(options: PresenceClientOptions) {
    this.#opts = resolveClientOptions(options)
    const hasWindow = typeof window !== 'undefined'
    this.#machine = initialState(
      hasWindow && typeof navigator !== 'undefined' ? navigator.onLine : true,
    )
    this.#detachNetwork =
      (options.watchNetwork ?? hasWindow)
        ? watchNetwork((online) => this.#dispatch({ type: online ? 'online' : 'offline' }))
        : () => {}
  }

  /** The connection status. */
  get status(): ConnectionStatus {
    return this.#machine.status
  }

  /** The close code that stopped the client for good (null while it retries). */
  get stoppedBy(): number | null {
    return this.#machine.stoppedBy
  }

  /**
   * Shows `roomId` on this page: subscribes it (connecting if needed). `page` (the default) is the
   * room page, which tells the others the user is here; `summary` a line in a list of rooms.
   * Returns the release.
   */
  retain(roomId: string, mode: RoomMode = 'page'): () => void {
    const entry = this.#rooms.entry(roomId)
    entry.refs++
    if (mode === 'page') entry.pageRefs++
    const wanted = modeOf(entry)
    if ((entry.refs === 1 || wanted !== entry.mode) && this.#machine.status === 'connected') {
      this.#subscribe(roomId)
    }
    entry.mode = wanted
    this.#dispatch({ type: 'connect' })
    let released = false
    return () => {
      if (released) return
      released = true
      entry.refs--
      if (mode === 'page') entry.pageRefs--
      // Deferred, so an unmount immediately followed by a mount (React StrictMode, route
      // transitions) keeps the subscription and the socket instead of churning them.
      setTimeout(() => this.#collect(roomId), 0)
    }
  }

  /**
   * Follows the user's own rooms (hosted or seated): `rooms.list` now and on every change, on
   * any node. Returns the release.
   */
  followRooms(): () => void {
    this.#followers++
    if (this.#followers === 1) this.#send({ v: PROTOCOL_VERSION, type: 'rooms.follow' })
    this.#dispatch({ type: 'connect' })
    let released = false
    return () => {
      if (released) return
      released = true
      this.#followers--
      setTimeout(() => {
        if (this.#followers > 0) return
        this.#send({ v: PROTOCOL_VERSION, type: 'rooms.unfollow' })
        this.#disconnectIfUnused()
      }, 0)
    }
  }

  /** The last rooms.list (null before the first), a stable array until it changes. */
  getRoomsList(): readonly RoomSummary[] | null {
    return this.#roomsList
  }

  /** Subscribes to rooms.list changes (for useSyncExternalStore). */
  subscribeRoomsList(listener: () => void): () => void {
    return addListener(this.#roomsListeners, listener)
  }

  /** Every frame of the room as it arrives (after it was applied to the room stream). */
  onFrame(roomId: string, listener: (frame: ServerFrame) => void): () => void {
    const entry = this.#rooms.entry(roomId)
    return addListener(entry.frameListeners, listener)
  }

  /** Subscribes to changes of the room stream (for useSyncExternalStore). */
  subscribeStream(roomId: string, listener: () => void): () => void {
    const entry = this.#rooms.entry(roomId)
    return addListener(entry.streamListeners, listener)
  }

  /** The room stream (a stable object until it changes). */
  getStream(roomId: string): RoomStream {
    return this.#rooms.get(roomId)?.stream ?? EMPTY_STREAM
  }

  /** Subscribes to status changes (for useSyncExternalStore). */
  subscribeStatus(listener: () => void): () => void {
    return addListener(this.#statusListeners, listener)
  }

  /** Closes everything for good (tests, page teardown). */
  destroy() {
    this.#dispatch({ type: 'disconnect' })
    this.#detachNetwork()
    this.#rooms.clear()
  }

  // ---------------------------------------------------------------------------

  #collect(roomId: string) {
    const entry = this.#rooms.get(roomId)
    if (!entry) return
    if (entry.refs > 0) {
      // A page left but a list still shows the room: it is no longer "here".
      const wanted = modeOf(entry)
      if (wanted !== entry.mode) {
        entry.mode = wanted
        if (this.#machine.status === 'connected') this.#subscribe(roomId)
      }
      return
    }
    if (entry.streamListeners.size === 0 && entry.frameListeners.size === 0)
      this.#rooms.delete(roomId)
    else entry.stream = EMPTY_STREAM
    this.#send({ v: PROTOCOL_VERSION, type: 'unsubscribe', room: roomId })
    this.#disconnectIfUnused()
  }

  #disconnectIfUnused() {
    if (this.#followers > 0 || this.#rooms.anyRetained()) return
    this.#dispatch({ type: 'disconnect' })
  }

  #dispatch(event: MachineEvent) {
    const before = this.#machine.status
    const { state, effects } = transition(this.#machine, event)
    this.#machine = state
    for (const effect of effects) this.#perform(effect)
    if (state.status !== before) {
      this.#updateHeartbeat()
      for (const listener of this.#statusListeners) listener()
    }
  }

  #perform(effect: Effect) {
    switch (effect.type) {
      case 'openSocket':
        this.#open(effect.generation)
        return
      case 'closeSocket':
        if (this.#socket?.generation === effect.generation) {
          const { socket } = this.#socket
          this.#socket = null
          closeClientSocket(socket)
        }
        return
      case 'scheduleReconnect':
        if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
        this.#reconnectTimer = setTimeout(() => {
          this.#reconnectTimer = null
          this.#dispatch({ type: 'timer' })
        }, effect.delayMs)
        return
      case 'cancelReconnect':
        if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
        this.#reconnectTimer = null
        return
      case 'subscribeAll':
        for (const [roomId, entry] of this.#rooms.entries())
          if (entry.refs > 0) this.#subscribe(roomId)
        if (this.#followers > 0) this.#send({ v: PROTOCOL_VERSION, type: 'rooms.follow' })
        return
      case 'deliver':
        this.#deliver(effect.frame)
        return
    }
  }

  #open(generation: number) {
    let socket: SocketLike
    try {
      socket = this.#opts.createSocket(this.#opts.url)
    } catch {
      queueMicrotask(() =>
        this.#dispatch({ type: 'close', generation, code: 1006, rand: this.#opts.random() }),
      )
      return
    }
    this.#socket = { generation, socket }
    attachClientSocket(socket, {
      activity: () => {
        this.#lastMessageAt = Date.now()
      },
      open: () => this.#dispatch({ type: 'open', generation }),
      frame: (frame) => this.#dispatch({ type: 'message', generation, frame }),
      close: (code) => {
        if (this.#socket?.generation === generation) this.#socket = null
        this.#dispatch({ type: 'close', generation, code, rand: this.#opts.random() })
      },
    })
  }

  #updateHeartbeat() {
    const connected = this.#machine.status === 'connected'
    if (connected && !this.#heartbeat) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#opts.heartbeatMs)
    } else if (!connected && this.#heartbeat) {
      clearInterval(this.#heartbeat)
      this.#heartbeat = null
    }
  }

  #beat() {
    const current = this.#socket
    if (!current) return
    if (Date.now() - this.#lastMessageAt > this.#opts.staleAfterMs) {
      // The socket says open but nothing comes through (sleep, dead NAT): drop it and resume.
      this.#dispatch({
        type: 'close',
        generation: current.generation,
        code: STALE_SOCKET,
        rand: this.#opts.random(),
      })
      this.#perform({ type: 'closeSocket', generation: current.generation })
      return
    }
    this.#send({ v: PROTOCOL_VERSION, type: 'ping' })
  }

  #send(frame: ClientFrame) {
    if (this.#machine.status !== 'connected' || !this.#socket) return
    sendOnSocket(this.#socket.socket, frame)
  }

  #subscribe(roomId: string) {
    const entry = this.#rooms.get(roomId)
    if (!entry) return
    setStream(entry, unsynced(entry.stream))
    entry.mode = modeOf(entry)
    this.#send(subscribeFrame(roomId, entry))
  }

  #deliver(frame: ServerFrame) {
    if (frame.type === 'rooms.list') {
      this.#roomsList = frame.rooms
      for (const listener of this.#roomsListeners) listener()
      return
    }
    if (frame.room === null) return
    const entry = this.#rooms.get(frame.room)
    if (!entry) return
    const { stream, gap } = applyFrame(entry.stream, frame)
    if (gap) {
      // Never apply across a gap: ask the server to replay from what we have (or snapshot).
      this.#subscribe(frame.room)
      return
    }
    // A room frame that changed nothing (already applied, or before the snapshot) is not
    // news: listeners would otherwise see it twice, e.g. open the dropout dialog again.
    if (stream === entry.stream && frame.seq > 0) return
    setStream(entry, stream)
    for (const listener of entry.frameListeners) listener(frame)
  }
}

const g = globalThis as unknown as { __presenceClient?: PresenceClient }

/** The page's shared presence client (created on first use; browser only). */
export function getPresenceClient(): PresenceClient {
  if (!g.__presenceClient) {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
    g.__presenceClient = new PresenceClient({ url: `${scheme}://${window.location.host}/api/ws` })
  }
  return g.__presenceClient
}
