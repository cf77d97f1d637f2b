import {
  ClientFrameSchema,
  MAX_CLIENT_FRAME_BYTES,
  PROTOCOL_VERSION,
  PresenceCloseCode,
  type WsErrorCode,
} from '@repo/discord-integration/contracts'
import type { Hooks, Peer } from 'crossws'
import type { Logger } from 'pino'
import type {
  RoomDirectory,
  RoomEvents,
  RoomFrameBody,
  SessionUser,
  VoicePresence,
} from '../../server/ports'
import { TokenBucket } from '../../server/token-bucket'
import {
  type BusFrame,
  type BusSubscription,
  type EventBus,
  type PublishOptions,
  type ReplayFrame,
  voiceDedupeKey,
} from './event-bus'
import { createMemoryEventBus } from './memory-event-bus.server'
import { type DropReason, type LatencySummary, PresenceMetrics } from './presence-metrics.server'
import { releaseUpgradeRequest } from './upgrade-request'
import { VoiceRouter } from './voice-router'

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

/** What {@link createPresenceService} needs. */
export interface PresenceServiceDeps {
  voice: VoicePresence
  rooms: RoomDirectory
  logger: Logger
  config: { PUBLIC_URL: string }
  /** Reads the signed-in user from the upgrade request (the session cookie); null = 401. */
  authenticate: (request: Request) => Promise<SessionUser | null>
  /** The event bus; defaults to an in-memory bus owned (and closed) by the service. */
  bus?: EventBus
  options?: Partial<PresenceServiceOptions>
}

/** A summary for /api/health. */
export interface PresenceHealth {
  sockets: number
  subscriptions: number
  /** Gateway receipt to socket write, over the most recent frames (ms). */
  latencyMs: LatencySummary
}

/** The presence service: RoomEvents for the rooms layer plus the WebSocket hooks for /api/ws. */
export interface PresenceService extends RoomEvents {
  /** The crossws hooks the Nitro route (or a test server) mounts. */
  readonly hooks: Partial<Hooks>
  /** The bus the service publishes on. */
  readonly bus: EventBus
  readonly metrics: PresenceMetrics
  health(): PresenceHealth
  /** Prometheus text exposition of the presence metrics. */
  metricsText(): Promise<string>
  /** Closes every socket (4012), stops timers and listeners, and closes an owned bus. */
  stop(): Promise<void>
}

interface Subscription {
  readonly roomId: string
  readonly state: SocketState
  /** Frames that arrived while the subscription was being set up; null once it is live. */
  buffer: BusFrame[] | null
  /** The last seq the socket was given (snapshot or frame) for this room. */
  lastSeq: number
}

interface SocketState {
  readonly peer: Peer
  readonly user: SessionUser
  /** At most maxSubscriptionsPerSocket (8), usually one: a list is lighter than a Map. */
  readonly subs: Subscription[]
  readonly bucket: TokenBucket
  badFrames: number
  alive: boolean
  closing: boolean
  /** Which group of the ping schedule the socket is in. */
  readonly pingSlot: number
}

/** The room's subscriptions on this node, sharing one bus subscription. */
interface LocalRoom {
  readonly subs: Set<Subscription>
  readonly subscription: BusSubscription
}

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

function isSessionUser(value: unknown): value is SessionUser {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { userId?: unknown }).userId === 'string'
  )
}

function byteLength(raw: unknown): number {
  if (typeof raw === 'string') return Buffer.byteLength(raw)
  if (raw instanceof ArrayBuffer) return raw.byteLength
  if (ArrayBuffer.isView(raw)) return raw.byteLength
  return 0
}

const g = globalThis as unknown as { __presenceService?: PresenceService }

/**
 * Creates the presence service. It routes voice feed events to rooms (RoomDirectory.roomForChannel),
 * stamps them on the event bus, and fans each frame out, serialised once, to the sockets
 * subscribed to that room. Subscriptions are authorised per room (RoomDirectory.roomAccess) and
 * resume from history or fall back to a snapshot taken so that nothing is missed or doubled.
 */
export function createPresenceService(deps: PresenceServiceDeps): PresenceService {
  const opts: PresenceServiceOptions = { ...DEFAULT_PRESENCE_OPTIONS, ...deps.options }
  const { voice, rooms, logger } = deps
  const expectedOrigin = new URL(deps.config.PUBLIC_URL).origin
  const ownsBus = deps.bus === undefined
  const bus = deps.bus ?? createMemoryEventBus()
  const metrics = new PresenceMetrics()
  const router = new VoiceRouter(rooms)
  // Keyed by the peer object itself: CrossWS makes `peer.id` lazily (a random UUID held for the
  // socket's life), which 10,000 sockets need not pay for.
  const sockets = new Map<Peer, SocketState>()
  /** Each user's sockets, oldest first. */
  const userSockets = new Map<string, SocketState[]>()
  const localRooms = new Map<string, LocalRoom>()
  let subscriptionCount = 0
  /** Sockets by ping group (see the ping timer). */
  const pingSlotCount = pingGroupCount(opts.pingIntervalMs)
  const pingSlots = Array.from({ length: pingSlotCount }, () => new Set<SocketState>())
  let nextSlot = 0
  let stopped = false

  // -------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------

  /**
   * Writes one text frame, given as a string or as its UTF-8 bytes; false if the socket is
   * closing or the write failed. No metrics.
   */
  const write = (state: SocketState, data: string | Buffer): boolean => {
    if (state.closing) return false
    try {
      if (typeof data === 'string') state.peer.send(data)
      else state.peer.send(data, TEXT_FRAME)
    } catch {
      return false
    }
    if (state.peer.bufferedAmount > opts.maxBufferedBytes) {
      drop(state, PresenceCloseCode.SlowConsumer, 'slow_consumer', 'too much buffered: resume')
    }
    return true
  }

  const sendText = (state: SocketState, text: string, type: string, receivedAt?: number) => {
    if (!write(state, text)) return
    metrics.framesSent.inc({ type })
    if (receivedAt !== undefined) metrics.observeLatencyMs(opts.now() - receivedAt)
  }

  // A replayed or buffered frame: anything at or before the socket's position is skipped (the
  // replay and the subscribe-time buffer can overlap).
  const sendInOrder = (
    state: SocketState,
    sub: Subscription,
    frame: ReplayFrame,
    receivedAt?: number,
  ) => {
    if (frame.seq <= sub.lastSeq) return
    sub.lastSeq = frame.seq
    sendText(state, frame.text, frame.type, receivedAt)
  }

  const sendError = (
    state: SocketState,
    room: string | null,
    code: WsErrorCode,
    message: string,
  ) => {
    metrics.clientErrors.inc({ code })
    const frame = {
      v: PROTOCOL_VERSION,
      type: 'error',
      room,
      seq: 0,
      ts: opts.now(),
      code,
      message,
    }
    sendText(state, JSON.stringify(frame), 'error')
  }

  // -------------------------------------------------------------------------
  // Subscriptions and fan-out
  // -------------------------------------------------------------------------

  // The hot path: one frame, already serialised, to every live subscriber of the room, encoded
  // to UTF-8 once and written as the same bytes to each socket. Metrics are recorded once per
  // frame (count of writes; latency at the last write), not per socket.
  const deliver = (roomId: string, busFrame: BusFrame) => {
    const local = localRooms.get(roomId)
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
      if (write(sub.state, bytes)) sent++
    }
    if (sent > 0) {
      metrics.framesSent.inc({ type: frame.type }, sent)
      if ('receivedAt' in frame) metrics.observeLatencyMs(opts.now() - frame.receivedAt)
    }
    if (frame.type === 'room.deleted') {
      for (const sub of [...local.subs]) removeSubscription(sub)
    } else if (frame.type === 'room.updated') {
      // A player who was removed stops receiving the room's stream at once.
      const allowed = new Set(frame.state.players.map((p) => p.userId))
      allowed.add(frame.state.ownerId)
      for (const sub of [...local.subs]) {
        if (!allowed.has(sub.state.user.userId)) {
          removeSubscription(sub)
          sendError(sub.state, roomId, 'FORBIDDEN', 'You are no longer a player of this room.')
        }
      }
    }
  }

  const addSubscription = (
    state: SocketState,
    roomId: string,
  ): { sub: Subscription; ready: Promise<void> } => {
    const previous = subscriptionTo(state, roomId)
    if (previous) removeSubscription(previous)
    const sub: Subscription = { roomId, state, buffer: [], lastSeq: 0 }
    state.subs.push(sub)
    subscriptionCount++
    metrics.subscriptions.set(subscriptionCount)
    let local = localRooms.get(roomId)
    if (!local) {
      local = {
        subs: new Set(),
        subscription: bus.subscribe(roomId, (frame) => deliver(roomId, frame)),
      }
      localRooms.set(roomId, local)
    }
    local.subs.add(sub)
    return { sub, ready: local.subscription.ready }
  }

  const subscriptionTo = (state: SocketState, roomId: string): Subscription | undefined =>
    state.subs.find((sub) => sub.roomId === roomId)

  const removeSubscription = (sub: Subscription) => {
    const { subs } = sub.state
    const index = subs.indexOf(sub)
    if (index < 0) return
    subs.splice(index, 1)
    subscriptionCount--
    metrics.subscriptions.set(subscriptionCount)
    const local = localRooms.get(sub.roomId)
    if (!local) return
    local.subs.delete(sub)
    if (local.subs.size === 0) {
      localRooms.delete(sub.roomId)
      local.subscription.unsubscribe()
    }
  }

  const goLive = (state: SocketState, sub: Subscription) => {
    const buffered = sub.buffer ?? []
    sub.buffer = null
    for (const { frame, text } of buffered) {
      const receivedAt = 'receivedAt' in frame ? frame.receivedAt : undefined
      sendInOrder(state, sub, { seq: frame.seq, type: frame.type, text }, receivedAt)
    }
  }

  const subscribe = async (
    state: SocketState,
    roomId: string,
    since: number | undefined,
    epoch: string | undefined,
  ) => {
    const userId = state.user.userId
    if (!rooms.roomAccess(roomId, userId)) {
      sendError(state, roomId, 'FORBIDDEN', 'You are not a player of this room.')
      return
    }
    if (!subscriptionTo(state, roomId) && state.subs.length >= opts.maxSubscriptionsPerSocket) {
      sendError(state, roomId, 'RATE_LIMITED', 'Too many rooms on one connection.')
      return
    }
    // Live frames are buffered from here on, so nothing published from now on can be missed.
    const { sub, ready } = addSubscription(state, roomId)
    const current = () => !state.closing && state.subs.includes(sub)
    try {
      await ready
      if (!current()) return
      if (since !== undefined) {
        const history = await bus.history(roomId, since, epoch)
        if (!current()) return
        if (history.ok) {
          sendText(
            state,
            JSON.stringify({
              v: PROTOCOL_VERSION,
              type: 'subscribed',
              room: roomId,
              seq: since,
              ts: opts.now(),
              recovered: true,
              epoch: history.epoch,
            }),
            'subscribed',
          )
          sub.lastSeq = since
          for (const frame of history.frames) sendInOrder(state, sub, frame)
          goLive(state, sub)
          metrics.subscribes.inc({ mode: 'resume' })
          return
        }
      }
      // Snapshot: capture the stream position, then read the state in the same tick (no event
      // can be applied in between); frames after the position are then delivered on top.
      const position = await bus.position(roomId)
      if (!current()) return
      const access = rooms.roomAccess(roomId, userId)
      if (!access) {
        removeSubscription(sub)
        sendError(state, roomId, 'FORBIDDEN', 'You are not a player of this room.')
        return
      }
      const members = voice.channelMembers(access.channelId)
      const ts = opts.now()
      const base = { v: PROTOCOL_VERSION, room: roomId, seq: position.seq, ts }
      sendText(
        state,
        JSON.stringify({ ...base, type: 'subscribed', recovered: false, epoch: position.epoch }),
        'subscribed',
      )
      sendText(
        state,
        JSON.stringify({
          ...base,
          type: 'presence.snapshot',
          channelId: access.channelId,
          members,
          state: access.state,
          epoch: position.epoch,
        }),
        'presence.snapshot',
      )
      sub.lastSeq = position.seq
      goLive(state, sub)
      metrics.subscribes.inc({ mode: 'snapshot' })
    } catch (error) {
      logger.error({ err: error, roomId }, 'presence subscribe failed')
      if (current()) {
        removeSubscription(sub)
        sendError(state, roomId, 'INTERNAL', 'Could not subscribe; try again.')
      }
    }
  }

  // -------------------------------------------------------------------------
  // Socket lifecycle
  // -------------------------------------------------------------------------

  const forget = (state: SocketState) => {
    for (const sub of [...state.subs]) removeSubscription(sub)
    if (sockets.get(state.peer) === state) {
      sockets.delete(state.peer)
      metrics.sockets.set(sockets.size)
    }
    const mine = userSockets.get(state.user.userId)
    const index = mine?.indexOf(state) ?? -1
    if (mine && index >= 0) {
      mine.splice(index, 1)
      if (mine.length === 0) userSockets.delete(state.user.userId)
    }
    pingSlots[state.pingSlot]?.delete(state)
  }

  const drop = (state: SocketState, code: number, reason: DropReason, text: string) => {
    if (state.closing) return
    state.closing = true
    metrics.socketsDropped.inc({ reason })
    forget(state)
    try {
      state.peer.close(code, text)
    } catch {
      // already closed
    }
    // A client that never answers the close (stalled, gone) is cut off.
    setTimeout(() => {
      try {
        state.peer.terminate()
      } catch {
        // already gone
      }
    }, opts.closeGraceMs).unref?.()
  }

  // Protocol pings are spread over the interval: every socket is pinged once per
  // pingIntervalMs, one small group per tick (see PING_TICK_MS), so 10,000 sockets never cost
  // one long synchronous loop.
  let pingTick = 0
  const pingTimer = setInterval(
    () => {
      const slot = pingSlots[pingTick] ?? new Set<SocketState>()
      pingTick = (pingTick + 1) % pingSlotCount
      for (const state of slot) {
        if (!state.alive) {
          drop(state, PresenceCloseCode.PingTimeout, 'ping_timeout', 'no pong')
          continue
        }
        state.alive = false
        try {
          state.peer.ping(PING_PAYLOAD)
        } catch {
          // reported through the error hook
        }
      }
    },
    Math.max(1, opts.pingIntervalMs / pingSlotCount),
  )
  pingTimer.unref?.()

  const handleMessage = (state: SocketState, raw: unknown) => {
    if (byteLength(raw) > MAX_CLIENT_FRAME_BYTES) {
      drop(state, PresenceCloseCode.FrameTooLarge, 'frame_too_large', 'frame too large')
      return
    }
    if (!state.bucket.take()) {
      sendError(state, null, 'RATE_LIMITED', 'Too many messages.')
      drop(state, PresenceCloseCode.RateLimited, 'rate_limited', 'rate limited')
      return
    }
    const bad = (message: string) => {
      sendError(state, null, 'BAD_FRAME', message)
      if (++state.badFrames > opts.maxBadFrames) {
        drop(
          state,
          PresenceCloseCode.ProtocolViolation,
          'protocol_violation',
          'too many bad frames',
        )
      }
    }
    if (typeof raw !== 'string') return bad('Frames must be JSON text.')
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      return bad('Frames must be valid JSON.')
    }
    if (typeof json === 'object' && json !== null && 'v' in json && json.v !== PROTOCOL_VERSION) {
      sendError(
        state,
        null,
        'UNSUPPORTED_VERSION',
        `This server speaks protocol v${PROTOCOL_VERSION}.`,
      )
      drop(
        state,
        PresenceCloseCode.UnsupportedVersion,
        'unsupported_version',
        'unsupported version',
      )
      return
    }
    const parsed = ClientFrameSchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      return bad(
        `Invalid frame${issue ? ` at ${issue.path.join('.') || 'root'}: ${issue.message}` : ''}.`,
      )
    }
    const frame = parsed.data
    switch (frame.type) {
      case 'subscribe':
        void subscribe(state, frame.room, frame.since, frame.epoch)
        return
      case 'unsubscribe': {
        const sub = subscriptionTo(state, frame.room)
        if (sub) removeSubscription(sub)
        return
      }
      case 'ping':
        sendText(
          state,
          JSON.stringify({
            v: PROTOCOL_VERSION,
            type: 'pong',
            room: null,
            seq: 0,
            ts: opts.now(),
            ...(frame.id === undefined ? {} : { id: frame.id }),
          }),
          'pong',
        )
        return
    }
  }

  const hooks: Partial<Hooks> = {
    async upgrade(request) {
      if (stopped) return new Response('Service Unavailable', { status: 503 })
      if (request.headers.get('origin') !== expectedOrigin) {
        return new Response('Forbidden origin', { status: 403 })
      }
      let user: SessionUser | null
      try {
        user = await deps.authenticate(request)
      } catch (error) {
        logger.warn({ err: error }, 'presence authentication failed')
        user = null
      }
      if (!user) return new Response('Unauthorized', { status: 401 })
      return { context: { presenceUser: user } }
    },
    open(peer) {
      const user = peer.context.presenceUser
      releaseUpgradeRequest(peer)
      if (!isSessionUser(user)) {
        peer.close(PresenceCloseCode.Unauthenticated, 'unauthenticated')
        return
      }
      const state: SocketState = {
        peer,
        user,
        subs: [],
        bucket: new TokenBucket(opts.ratePerSecond, opts.rateBurst, monotonicNow),
        badFrames: 0,
        alive: true,
        closing: false,
        pingSlot: nextSlot,
      }
      // Over the limit, the user's oldest socket gives way: after a flaky network the old
      // ones are usually dead but not yet detected, and the newest is the one in use.
      // (Dropping one removes it from `mine`, and the user's entry when that empties; the entry is
      // set again below.)
      const mine = userSockets.get(user.userId) ?? []
      for (const oldest of mine.slice(0, Math.max(0, mine.length - opts.maxSocketsPerUser + 1))) {
        drop(oldest, PresenceCloseCode.TooManySockets, 'too_many_sockets', 'too many sockets')
      }
      mine.push(state)
      userSockets.set(user.userId, mine)
      sockets.set(peer, state)
      pingSlots[state.pingSlot]?.add(state)
      nextSlot = (nextSlot + 1) % pingSlotCount
      metrics.sockets.set(sockets.size)
    },
    message(peer, message) {
      const state = sockets.get(peer)
      if (!state || state.closing) return
      state.alive = true
      try {
        handleMessage(state, message.rawData)
      } catch (error) {
        logger.error({ err: error }, 'presence message handler failed')
        sendError(state, null, 'INTERNAL', 'Something went wrong on our side.')
      }
    },
    pong(peer) {
      const state = sockets.get(peer)
      if (state) state.alive = true
    },
    close(peer) {
      const state = sockets.get(peer)
      if (state) forget(state)
    },
    error(peer, error) {
      logger.debug({ err: error }, 'presence socket error')
      const state = sockets.get(peer)
      if (state) forget(state)
    },
  }

  // -------------------------------------------------------------------------
  // Publishing
  // -------------------------------------------------------------------------

  const publish = (roomId: string, body: RoomFrameBody, options?: PublishOptions) => {
    if (stopped) return
    metrics.framesPublished.inc()
    bus.publish(roomId, body, options).catch((error: unknown) => {
      logger.error({ err: error, roomId, type: body.type }, 'presence publish failed')
    })
  }

  const unsubscribeVoice = voice.subscribe((event) => {
    try {
      // Every node routes the same event: the dedupe key lets the shared bus publish it once.
      for (const { roomId, body } of router.route(event))
        publish(roomId, body, { dedupeKey: voiceDedupeKey(event, body.type) })
    } catch (error) {
      logger.error({ err: error }, 'presence voice routing failed')
    }
  })

  const service: PresenceService = {
    hooks,
    bus,
    metrics,
    publish,
    viewerCount(roomId) {
      return localRooms.get(roomId)?.subs.size ?? 0
    },
    health() {
      return {
        sockets: sockets.size,
        subscriptions: subscriptionCount,
        latencyMs: metrics.latencySummary(),
      }
    },
    metricsText() {
      return metrics.text()
    },
    async stop() {
      if (stopped) return
      stopped = true
      clearInterval(pingTimer)
      unsubscribeVoice()
      for (const state of [...sockets.values()]) {
        drop(state, PresenceCloseCode.ShuttingDown, 'shutting_down', 'server restarting')
      }
      if (ownsBus) await bus.close()
      if (g.__presenceService === service) g.__presenceService = undefined
    },
  }
  g.__presenceService = service
  return service
}

/** Health summary of the running presence service (null before it starts), for /api/health. */
export function presenceHealth(): PresenceHealth | null {
  return g.__presenceService?.health() ?? null
}

/** Content type of the Prometheus text exposition. */
export function presenceMetricsContentType(): string {
  return g.__presenceService?.metrics.contentType ?? 'text/plain; version=0.0.4; charset=utf-8'
}

/** Prometheus text of the running presence service's metrics ('' before it starts). */
export async function presenceMetricsText(): Promise<string> {
  return (await g.__presenceService?.metricsText()) ?? ''
}
