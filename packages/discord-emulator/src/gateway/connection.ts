import {
  GatewayCloseCodes as C,
  GatewayDispatchEvents as E,
  GatewayOpcodes as Op,
} from 'discord-api-types/v10'
import type { WebSocket } from 'ws'
import { FrameSchema } from './payloads.ts'
import type { BufferedDispatch, GatewaySession, SessionSink } from './session.ts'

/** Largest client frame Discord accepts. */
export const MAX_CLIENT_PAYLOAD = 4096

/** The heartbeat interval Discord hands out in production (HELLO in real traffic). */
export const DISCORD_HEARTBEAT_INTERVAL_MS = 41_250

/**
 * What one heartbeat costs against the 120-per-60-s send limit. Discord counts every gateway event,
 * heartbeats included (docs events/gateway "Rate Limiting"), at its ~41 s cadence. Tests shorten
 * the interval to a few hundred ms; a heartbeat then costs its share of one real heartbeat, so a
 * client beating at the HELLO interval uses the same part of the budget as it would on Discord.
 */
export function heartbeatCost(heartbeatIntervalMs: number): number {
  return Math.min(1, heartbeatIntervalMs / DISCORD_HEARTBEAT_INTERVAL_MS)
}

/** What a connection needs from the gateway server. */
export interface ConnectionHost {
  readonly heartbeatIntervalMs: number
  readonly sendLimit: { count: number; windowMs: number }
  acksEnabled(): boolean
  identify(conn: GatewayConnection, d: unknown): void
  resume(conn: GatewayConnection, d: unknown): void
  requestMembers(conn: GatewayConnection, session: GatewaySession, d: unknown): void
  voiceUpdate(conn: GatewayConnection, session: GatewaySession, d: unknown): void
  channelInfo(conn: GatewayConnection, session: GatewaySession, d: unknown): void
  /** The connection is gone; `code` is the close code (1006 when dropped). */
  closed(
    conn: GatewayConnection,
    code: number,
    opts: { byServer: boolean; resumable: boolean },
  ): void
  onSent(t: string, s: number): void
  heartbeatReceived(): void
}

/**
 * One WebSocket to the gateway: HELLO, heartbeats (and the server-side heartbeat timeout), the
 * 4096-byte and 120-per-60-s limits, frame decoding and opcode routing. Every handler is wrapped:
 * bad input ends this connection with Discord's close code and never throws.
 */
export class GatewayConnection implements SessionSink {
  session: GatewaySession | null = null
  closing = false
  #heartbeatTimer: NodeJS.Timeout | null = null
  #windowStart = Date.now()
  #sentInWindow = 0
  #closeCodeSent: number | null = null
  #resumableClose = false

  constructor(
    readonly ws: WebSocket,
    private readonly host: ConnectionHost,
  ) {
    ws.on('message', (data, isBinary) => this.#safe(() => this.#onMessage(data, isBinary)))
    ws.on('close', (code) => this.#safe(() => this.#onClose(code)))
    ws.on('error', () => {})
    this.send({
      op: Op.Hello,
      d: { heartbeat_interval: host.heartbeatIntervalMs },
      s: null,
      t: null,
    })
    this.#armHeartbeatTimeout()
  }

  #safe(fn: () => void): void {
    try {
      fn()
    } catch {
      this.close(C.UnknownError, 'Unknown error')
    }
  }

  /** Sends a raw frame if the socket is open. */
  send(frame: { op: number; d: unknown; s: number | null; t: string | null }): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame))
  }

  sendDispatch(event: BufferedDispatch): void {
    this.send({ op: Op.Dispatch, d: event.d, s: event.s, t: event.t })
    this.host.onSent(event.t, event.s)
  }

  /**
   * Closes with a code; 1006 drops the TCP connection without a close frame. `resumable` keeps the
   * session resumable whatever the code says (the heartbeat timeout).
   */
  close(code: number, reason = '', resumable = false): void {
    if (this.closing) return
    this.closing = true
    this.#closeCodeSent = code
    this.#resumableClose = resumable
    this.#stopHeartbeatTimeout()
    if (code === 1006) this.ws.terminate()
    else this.ws.close(code, reason)
  }

  #armHeartbeatTimeout(): void {
    this.#stopHeartbeatTimeout()
    // Discord allows some slack after the interval before it gives up on a silent client.
    const ms = Math.round(this.host.heartbeatIntervalMs * 1.5) + 1000
    // "If your app fails to send a heartbeat event in time, your connection will be closed and you
    // will be forced to Resume" (docs events/gateway "Heartbeat Interval"; RESUME after a missed
    // heartbeat works, discord/discord-api-docs#2922): 4009, but the session stays resumable.
    this.#heartbeatTimer = setTimeout(
      () => this.close(C.SessionTimedOut, 'Session timed out', true),
      ms,
    )
    this.#heartbeatTimer.unref()
  }

  #stopHeartbeatTimeout(): void {
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = null
  }

  #onClose(code: number): void {
    this.#stopHeartbeatTimeout()
    const byServer = this.#closeCodeSent !== null
    this.host.closed(this, this.#closeCodeSent ?? code, {
      byServer,
      resumable: this.#resumableClose,
    })
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    if (this.closing) return
    const buf = Array.isArray(data)
      ? Buffer.concat(data as Buffer[])
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data as ArrayBuffer)
    if (buf.length > MAX_CLIENT_PAYLOAD) {
      this.close(C.DecodeError, 'Error while decoding payload.')
      return
    }
    let parsed: unknown
    try {
      if (isBinary && buf[0] !== 0x7b) throw new Error('binary frames are not JSON')
      parsed = JSON.parse(buf.toString('utf8'))
    } catch {
      this.close(C.DecodeError, 'Error while decoding payload.')
      return
    }
    const frame = FrameSchema.safeParse(parsed)
    if (!frame.success) {
      this.close(C.DecodeError, 'Error while decoding payload.')
      return
    }
    const { op, d } = frame.data
    const cost = op === Op.Heartbeat ? heartbeatCost(this.host.heartbeatIntervalMs) : 1
    if (!this.#countSend(cost)) {
      this.close(C.RateLimited, 'Rate limited.')
      return
    }
    switch (op) {
      case Op.Heartbeat:
        this.host.heartbeatReceived()
        this.#armHeartbeatTimeout()
        if (this.host.acksEnabled()) this.send({ op: Op.HeartbeatAck, d: null, s: null, t: null })
        return
      case Op.Identify:
        if (this.session) {
          this.close(C.AlreadyAuthenticated, 'Already authenticated.')
          return
        }
        this.host.identify(this, d)
        return
      case Op.Resume:
        if (this.session) {
          this.close(C.AlreadyAuthenticated, 'Already authenticated.')
          return
        }
        this.host.resume(this, d)
        return
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
      case Op.RequestGuildMembers:
      case Op.RequestSoundboardSounds:
      case Op.RequestChannelInfo: {
        const session = this.session
        if (!session) {
          this.close(C.NotAuthenticated, 'Not authenticated.')
          return
        }
        if (op === Op.RequestGuildMembers) this.host.requestMembers(this, session, d)
        if (op === Op.VoiceStateUpdate) this.host.voiceUpdate(this, session, d)
        if (op === Op.RequestChannelInfo) this.host.channelInfo(this, session, d)
        return
      }
      default:
        this.close(C.UnknownOpcode, 'Unknown opcode.')
        return
    }
  }

  #countSend(cost: number): boolean {
    const now = Date.now()
    if (now - this.#windowStart >= this.host.sendLimit.windowMs) {
      this.#windowStart = now
      this.#sentInWindow = 0
    }
    this.#sentInWindow += cost
    // A small epsilon so that fractional heartbeat costs never tip an exact budget over.
    return this.#sentInWindow <= this.host.sendLimit.count + 1e-9
  }

  /** Sends op 9 and detaches the session from this socket (a RESUME may follow on it). */
  invalidSession(resumable: boolean): void {
    if (this.session?.sink === this) this.session.sink = null
    this.session = null
    this.send({ op: Op.InvalidSession, d: resumable, s: null, t: null })
  }

  /** Sends op 1: Discord asks for a heartbeat now (docs events/gateway "Heartbeat Requests"). */
  requestHeartbeat(): void {
    this.send({ op: Op.Heartbeat, d: null, s: null, t: null })
  }

  /** Sends op 7 RECONNECT. */
  reconnect(): void {
    this.send({ op: Op.Reconnect, d: null, s: null, t: null })
  }

  /** Marks the end of a replay. */
  resumed(session: GatewaySession): void {
    session.dispatch(E.Resumed, null)
  }
}
