import {
  ClientFrameSchema,
  MAX_CLIENT_FRAME_BYTES,
  PROTOCOL_VERSION,
  PresenceCloseCode,
} from '@repo/discord-integration/contracts'
import type { Hooks } from 'crossws'
import type { Logger } from 'pino'
import type { SessionUser } from '../../server/ports'
import type { PresenceSocket } from './presence-socket'
import type { RoomFollowers } from './room-followers.server'
import type { RoomSubscriptions } from './room-subscriptions.server'
import { pongFrame } from './server-frames'
import type { SocketRegistry } from './socket-registry.server'
import { releaseUpgradeRequest } from './upgrade-request'

/** What {@link createPresenceHooks} needs. */
export interface PresenceHooksDeps {
  sockets: SocketRegistry
  subscriptions: RoomSubscriptions
  /** Sockets following their user's rooms (rooms.follow). */
  followers: RoomFollowers
  /**
   * Reads the signed-in user from the upgrade request (the session cookie), with the id of their
   * login session when there is one (its end closes the socket); null = 401.
   */
  authenticate: (request: Request) => Promise<SocketUser | null>
  /** The only Origin an upgrade may come from (the origin of PUBLIC_URL). */
  expectedOrigin: string
  /** Invalid frames a socket may send before it is closed with 4002. */
  maxBadFrames: number
  /** Epoch-ms clock for ts. */
  now: () => number
  logger: Logger
}

/** Who opens a socket: the user, and the login session they opened it with. */
export type SocketUser = SessionUser & { sessionId?: string }

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

/**
 * The crossws hooks of `/api/ws` (protocol v1): the upgrade checks the Origin and the session,
 * `open` registers the socket, `message` parses client frames (size, rate and version limits;
 * bad frames are answered and counted) and acts on them, and `close`/`error` forget the socket.
 */
export function createPresenceHooks(deps: PresenceHooksDeps): Partial<Hooks> {
  const { sockets, subscriptions, logger } = deps

  const bad = (socket: PresenceSocket, message: string) => {
    sockets.sendError(socket, null, 'BAD_FRAME', message)
    if (++socket.badFrames > deps.maxBadFrames) {
      sockets.drop(
        socket,
        PresenceCloseCode.ProtocolViolation,
        'protocol_violation',
        'too many bad frames',
      )
    }
  }

  const handleMessage = (socket: PresenceSocket, raw: unknown) => {
    if (byteLength(raw) > MAX_CLIENT_FRAME_BYTES) {
      sockets.drop(socket, PresenceCloseCode.FrameTooLarge, 'frame_too_large', 'frame too large')
      return
    }
    if (!socket.bucket.take()) {
      sockets.sendError(socket, null, 'RATE_LIMITED', 'Too many messages.')
      sockets.drop(socket, PresenceCloseCode.RateLimited, 'rate_limited', 'rate limited')
      return
    }
    if (typeof raw !== 'string') return bad(socket, 'Frames must be JSON text.')
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      return bad(socket, 'Frames must be valid JSON.')
    }
    if (typeof json === 'object' && json !== null && 'v' in json && json.v !== PROTOCOL_VERSION) {
      sockets.sendError(
        socket,
        null,
        'UNSUPPORTED_VERSION',
        `This server speaks protocol v${PROTOCOL_VERSION}.`,
      )
      sockets.drop(
        socket,
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
        socket,
        `Invalid frame${issue ? ` at ${issue.path.join('.') || 'root'}: ${issue.message}` : ''}.`,
      )
    }
    const frame = parsed.data
    switch (frame.type) {
      case 'subscribe':
        void subscriptions.subscribe(socket, frame.room, frame.since, frame.epoch, frame.mode)
        return
      case 'unsubscribe':
        subscriptions.unsubscribe(socket, frame.room)
        return
      case 'ping':
        sockets.send(socket, pongFrame(frame.id, deps.now()))
        return
      case 'rooms.follow':
        deps.followers.follow(socket)
        return
      case 'rooms.unfollow':
        deps.followers.unfollow(socket)
        return
    }
  }

  return {
    async upgrade(request) {
      if (sockets.stopped) return new Response('Service Unavailable', { status: 503 })
      if (request.headers.get('origin') !== deps.expectedOrigin) {
        return new Response('Forbidden origin', { status: 403 })
      }
      let found: SocketUser | null
      try {
        found = await deps.authenticate(request)
      } catch (error) {
        logger.warn({ err: error }, 'presence authentication failed')
        found = null
      }
      if (!found) return new Response('Unauthorized', { status: 401 })
      const { sessionId = null, ...user } = found
      return { context: { presenceUser: user, presenceSession: sessionId } }
    },
    open(peer) {
      const user = peer.context.presenceUser
      const sessionId = peer.context.presenceSession
      releaseUpgradeRequest(peer)
      if (!isSessionUser(user)) {
        peer.close(PresenceCloseCode.Unauthenticated, 'unauthenticated')
        return
      }
      sockets.open(peer, user, typeof sessionId === 'string' ? sessionId : null)
    },
    message(peer, message) {
      const socket = sockets.get(peer)
      if (!socket || socket.closing) return
      socket.alive = true
      try {
        handleMessage(socket, message.rawData)
      } catch (error) {
        logger.error({ err: error }, 'presence message handler failed')
        sockets.sendError(socket, null, 'INTERNAL', 'Something went wrong on our side.')
      }
    },
    pong(peer) {
      const socket = sockets.get(peer)
      if (socket) socket.alive = true
    },
    close(peer) {
      const socket = sockets.get(peer)
      if (socket) sockets.forget(socket)
    },
    error(peer, error) {
      logger.debug({ err: error }, 'presence socket error')
      const socket = sockets.get(peer)
      if (socket) sockets.forget(socket)
    },
  }
}
