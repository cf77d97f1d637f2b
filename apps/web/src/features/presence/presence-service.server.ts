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
 * and stamps them on the event bus; the room subscriptions (room-subscriptions.server.ts) fan each
 * frame out to the sockets of that room (socket-registry.server.ts), which the crossws hooks
 * (presence-hooks.server.ts) open, feed with client frames and close.
 */
export function createPresenceService(deps: PresenceServiceDeps): PresenceService {
  const opts: PresenceServiceOptions = { ...DEFAULT_PRESENCE_OPTIONS, ...deps.options }
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
    })
  }

  const unsubscribeVoice = voice.subscribe((event) => {
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
      // Every node routes the same event: the dedupe key lets the shared bus publish it once.
      for (const { roomId, body } of router.route(event))
        publish(roomId, body, { dedupeKey: voiceDedupeKey(event, body.type) })
    } catch (error) {
      logger.error({ err: error }, 'presence voice routing failed')
    }
  })

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
      subscriptions.stop()
      sockets.stop()
      if (ownsBus) await bus.close()
    },
  }
}
