import type { Hooks } from 'crossws'
import type { Logger } from 'pino'
import type {
  RoomDirectory,
  RoomEvents,
  RoomFrameBody,
  ViewerRegistry,
  VoicePresence,
} from '../../server/ports'
import { MemoryViewerPresence } from '../../server/viewer-presence'
import { type EventBus, type PublishOptions, voiceDedupeKey } from './event-bus'
import { createMemoryEventBus } from './memory-event-bus.server'
import { createPresenceHooks, type SocketUser } from './presence-hooks.server'
import { type LatencySummary, PresenceMetrics } from './presence-metrics.server'
import { DEFAULT_PRESENCE_OPTIONS, type PresenceServiceOptions } from './presence-options'
import { RoomFollowers } from './room-followers.server'
import { RoomSubscriptions } from './room-subscriptions.server'
import { SocketRegistry } from './socket-registry.server'
import { VoiceRouter } from './voice-router'

/**
 * A voice stream entry older than this is not published (several nodes): well inside the Redis
 * bus's 120 s dedupe window, so a node that fell that far behind never publishes an entry again
 * after the bus forgot its key.
 */
const STALE_ENTRY_MS = 60_000

/** The time (epoch ms) in a Redis stream entry id `ms-seq`. */
function entryTime(id: string): number {
  const ms = Number.parseInt(id, 10)
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY
}

/** What {@link createPresenceService} needs. */
export interface PresenceServiceDeps {
  voice: VoicePresence
  rooms: RoomDirectory
  logger: Logger
  config: { PUBLIC_URL: string }
  /**
   * Reads the signed-in user from the upgrade request (the session cookie), with their login
   * session's id (see {@link PresenceService.endSessions}); null = 401.
   */
  authenticate: (request: Request) => Promise<SocketUser | null>
  /** The event bus; defaults to an in-memory bus owned (and closed) by the service. */
  bus?: EventBus
  /**
   * Where page subscriptions are counted ("who is here", seats held through drops); defaults to
   * one in memory (a single node). The runtime hands in the shared one (Redis with several nodes).
   */
  viewers?: ViewerRegistry
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
  /** The login sessions with sockets open on this node. */
  sessionIds(): string[]
  /** Closes the sockets of login sessions that ended (4001 Unauthenticated: the page goes to sign in). */
  endSessions(ids: readonly string[]): void
  /** Closes every socket (4012), stops timers and listeners, and closes an owned bus. */
  stop(): Promise<void>
}

/**
 * Creates the presence service. It routes voice feed events to rooms (RoomDirectory.roomForChannel)
 * and stamps them on the event bus (several nodes: each voice stream entry under one dedupe key,
 * and the differences of a voice snapshot reload as fresh snapshots to this node's sockets); the room subscriptions (room-subscriptions.server.ts) fan each
 * frame out to the sockets of that room (socket-registry.server.ts), which the crossws hooks
 * (presence-hooks.server.ts) open, feed with client frames and close.
 */
export function createPresenceService(deps: PresenceServiceDeps): PresenceService {
  const opts: PresenceServiceOptions = { ...DEFAULT_PRESENCE_OPTIONS, ...deps.options }
  const { now } = opts
  const { voice, rooms, logger } = deps
  const ownsBus = deps.bus === undefined
  const bus = deps.bus ?? createMemoryEventBus()
  const viewers = deps.viewers ?? new MemoryViewerPresence()
  const metrics = new PresenceMetrics()
  const router = new VoiceRouter(rooms)
  const sockets = new SocketRegistry({
    metrics,
    options: opts,
    // A socket that goes (closed, dropped) leaves its rooms first.
    onForget: (socket) => {
      subscriptions.removeAll(socket)
      followers.unfollow(socket)
    },
  })
  const subscriptions = new RoomSubscriptions({
    bus,
    rooms,
    voice,
    sockets,
    metrics,
    logger,
    maxPerSocket: opts.maxSubscriptionsPerSocket,
    now: opts.now,
    viewers,
  })
  const followers = new RoomFollowers({ rooms, voice, sockets, now: opts.now })
  const hooks = createPresenceHooks({
    sockets,
    subscriptions,
    followers,
    authenticate: deps.authenticate,
    expectedOrigin: new URL(deps.config.PUBLIC_URL).origin,
    maxBadFrames: opts.maxBadFrames,
    now: opts.now,
    logger,
  })
  let stopped = false

  const publish = (roomId: string, body: RoomFrameBody, options?: PublishOptions) => {
    if (stopped) return
    metrics.framesPublished.inc()
    bus.publish(roomId, body, options).catch((error: unknown) => {
      logger.error({ err: error, roomId, type: body.type }, 'presence publish failed')
      // The frame never made it into the room stream (Redis unreachable): once the bus works
      // again, this node's sockets in the room get a snapshot (every node does so for its own).
      subscriptions.resyncSoon(roomId)
    })
  }

  // Rooms touched by the differences of a voice snapshot reload (several nodes), until onResync.
  const resyncedRooms = new Set<string>()
  const unsubscribeVoice = voice.subscribe((event, origin) => {
    try {
      if (event.type === 'profile.updated') {
        // To this node's sockets of every room where the user sits, watches or is in voice
        // (each node does the same for its own; the stored copies follow in a room.updated).
        const targets = new Set((rooms.roomsOfUser?.(event.userId) ?? []).map((r) => r.summary.id))
        const voiceRoom = event.channelId === null ? null : rooms.roomForChannel(event.channelId)
        if (voiceRoom !== null) targets.add(voiceRoom)
        for (const roomId of targets) subscriptions.sendProfile(roomId, event.userId, event.profile)
        return
      }
      const routed = router.route(event)
      if (origin?.kind === 'resync') {
        // A difference this node computed after reloading the voice snapshot: other nodes compute
        // their own, so it is never published; this node's sockets in the room get a snapshot.
        for (const { roomId } of routed) resyncedRooms.add(roomId)
        return
      }
      if (origin && now() - entryTime(origin.id) > STALE_ENTRY_MS) {
        // This node is far behind the stream (it was paused): the bus no longer remembers the
        // entry's key, so publishing it could double it. Other nodes published it when it was
        // new; this node's sockets in the room get a snapshot instead.
        for (const { roomId } of routed) subscriptions.resyncSoon(roomId)
        return
      }
      for (const { roomId, body } of routed) {
        // A stream entry is the same on every node: its key lets the shared bus publish it once.
        publish(
          roomId,
          body,
          origin ? { dedupeKey: voiceDedupeKey(origin, body.type, event.userId) } : undefined,
        )
      }
    } catch (error) {
      logger.error({ err: error }, 'presence voice routing failed')
    }
  })
  const offResync = voice.onResync?.(() => {
    const rooms = [...resyncedRooms]
    resyncedRooms.clear()
    if (rooms.length > 0) void subscriptions.resync(rooms, 'snapshot')
  })
  // Live frames may have been missed while the bus's subscriber was reconnecting.
  const offGap = bus.onGap?.(() => void subscriptions.resync('all', 'resume'))

  return {
    hooks,
    bus,
    metrics,
    publish,
    viewerCount: (roomId) => subscriptions.viewerCount(roomId),
    health: () => ({
      sockets: sockets.size,
      subscriptions: subscriptions.count,
      latencyMs: metrics.latencySummary(),
    }),
    metricsText: () => metrics.text(),
    sessionIds: () => sockets.sessionIds(),
    endSessions: (ids) => sockets.closeSessions(ids),
    async stop() {
      if (stopped) return
      stopped = true
      unsubscribeVoice()
      followers.stop()
      offResync?.()
      offGap?.()
      subscriptions.stop()
      sockets.stop()
      if (ownsBus) await bus.close()
    },
  }
}
