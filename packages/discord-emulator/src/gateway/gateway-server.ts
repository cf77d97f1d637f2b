import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  GatewayCloseCodes as C,
  GatewayDispatchEvents as E,
  type GatewayGuildCreateDispatchData,
  GatewayIntentBits as I,
} from 'discord-api-types/v10'
import { WebSocketServer } from 'ws'
import type { Logger } from '../log.ts'
import type { WorldDispatch } from '../world/types.ts'
import type { World } from '../world/world.ts'
import {
  handleRequestChannelInfo,
  handleRequestMembers,
  handleVoiceUpdate,
} from './client-requests.ts'
import { type ConnectionHost, GatewayConnection } from './connection.ts'
import { admitIdentify } from './identify-admission.ts'
import { IdentifyLimits } from './identify-limits.ts'
import { forIntents, ResumeSchema, readyPayload } from './payloads.ts'
import { GatewaySession } from './session.ts'
import { type GatewayOrigin, queryRefusal, upgradeRefusal } from './upgrade-checks.ts'

export type { GatewayOrigin } from './upgrade-checks.ts'

/** Gateway settings. */
export interface GatewayOptions {
  heartbeatIntervalMs: number
  resumeWindowMs: number
  identifyIntervalMs: number
  sessionStartLimit: number
  sendLimit: { count: number; windowMs: number }
  /** ws:// URL handed out in READY's resume_gateway_url. */
  resumeUrl: () => string
  onDispatch?: (event: { t: string; s: number; sentAt: number }) => void
  log: Logger
}

/** Close codes after which a session cannot be resumed. */
const SESSION_ENDING = new Set<number>([
  1000, 1001, 4003, 4004, 4005, 4007, 4009, 4010, 4011, 4012, 4013, 4014,
])

/**
 * Gateway v10 (JSON): sessions, IDENTIFY/RESUME, intents filtering, identify throttling and the
 * fault-injection knobs the control API exposes.
 */
export class GatewayServer implements ConnectionHost {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 })
  readonly sessions = new Map<string, GatewaySession>()
  readonly connections = new Set<GatewayConnection>()
  identifies = 0
  resumes = 0
  sessionTakeovers = 0
  heartbeats = 0
  /** WebSockets opened on each origin since start (or reset). */
  readonly originConnections: Record<GatewayOrigin, number> = { gateway: 0, resume: 0 }
  readonly limits: IdentifyLimits
  #acks = true
  #refuseUntil = 0
  readonly lastAllMembersRequest = new Map<string, number>()

  constructor(
    private readonly world: () => World,
    readonly options: GatewayOptions,
  ) {
    this.limits = new IdentifyLimits(options.sessionStartLimit, options.identifyIntervalMs)
  }

  get heartbeatIntervalMs() {
    return this.options.heartbeatIntervalMs
  }
  get sendLimit() {
    return this.options.sendLimit
  }
  acksEnabled() {
    return this.#acks
  }

  /** Remaining identifies and time to reset, as GET /gateway/bot reports them. */
  sessionStartLimit() {
    return this.limits.sessionStartLimit(this.world().sharding.maxConcurrency)
  }

  /**
   * Handles an HTTP upgrade. Both origins are bare: clients append `/?v=10&encoding=json` (or
   * `?v=10&encoding=json`, which is the same request line). The gateway origin also keeps the old
   * `/resume` path, which resume URLs persisted by earlier emulator versions still name.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, origin: GatewayOrigin): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const refusal = upgradeRefusal(url, origin, Date.now() < this.#refuseUntil)
    if (refusal) {
      socket.end(refusal)
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new GatewayConnection(ws, this)
      this.connections.add(conn)
      this.originConnections[origin]++
      const closing = queryRefusal(url)
      if (closing) conn.close(closing.code, closing.reason)
    })
  }

  identify(conn: GatewayConnection, raw: unknown): void {
    const world = this.world()
    const admission = admitIdentify(world, this.limits, raw)
    if (admission.type === 'close') {
      conn.close(admission.code, admission.reason)
      return
    }
    if (admission.type === 'invalidSession') {
      conn.invalidSession(false)
      return
    }
    const { identify: d, shard, owned } = admission
    this.identifies++
    const session = new GatewaySession(randomBytes(16).toString('hex'), d.intents, shard, 5000)
    this.sessions.set(session.id, session)
    conn.session = session
    session.sink = conn
    const ready = readyPayload(
      world,
      session,
      d.shard !== undefined,
      owned,
      this.options.resumeUrl(),
    )
    session.dispatch(E.Ready, ready)
    if ((d.intents & I.Guilds) !== 0) {
      // One GUILD_CREATE per guild of this shard; one in an outage gets GUILD_DELETE
      // `unavailable: true` instead (docs events/gateway-events "Guild Create").
      for (const g of owned) {
        if (g.available) session.dispatch(E.GuildCreate, forIntents(g.guildCreate(), d.intents))
        else session.dispatch(E.GuildDelete, { id: g.id, unavailable: true })
      }
    }
    this.options.log.info(
      { session: session.id, intents: d.intents, shard, guilds: owned.length },
      'identified',
    )
  }

  resume(conn: GatewayConnection, raw: unknown): void {
    const parsed = ResumeSchema.safeParse(raw)
    if (!parsed.success) {
      conn.close(C.DecodeError, 'Error while decoding payload.')
      return
    }
    const d = parsed.data
    if (d.token.replace(/^Bot /, '') !== this.world().botToken) {
      conn.close(C.AuthenticationFailed, 'Authentication failed.')
      return
    }
    const session = this.sessions.get(d.session_id)
    const missed = session?.missedSince(d.seq ?? 0) ?? null
    if (!session || !missed) {
      if (session && !missed) this.#endSession(session)
      conn.invalidSession(false)
      return
    }
    // Discord does not document a RESUME for a session that still has a connection attached.
    // Our model: the newer connection takes the session over and the older one is closed with
    // 4000 (a resumable code: a client that resumes in turn takes it back). A client that shares
    // a session between processes must make sure only one of them ever connects (README).
    const previous = session.sink
    if (previous instanceof GatewayConnection && previous !== conn) {
      session.sink = null
      previous.session = null
      previous.close(C.UnknownError, 'Session resumed elsewhere')
      this.sessionTakeovers++
    }
    session.clearExpiry()
    conn.session = session
    session.sink = conn
    this.resumes++
    for (const event of missed) conn.sendDispatch(event)
    conn.resumed(session)
    this.options.log.info({ session: session.id, replayed: missed.length }, 'resumed')
  }

  requestMembers(conn: GatewayConnection, session: GatewaySession, d: unknown): void {
    handleRequestMembers(this, this.world(), conn, session, d)
  }

  voiceUpdate(conn: GatewayConnection, session: GatewaySession, d: unknown): void {
    handleVoiceUpdate(this.world(), conn, session, d)
  }

  channelInfo(conn: GatewayConnection, session: GatewaySession, d: unknown): void {
    handleRequestChannelInfo(this.world(), conn, session, d)
  }

  closed(conn: GatewayConnection, code: number, opts: { resumable: boolean }): void {
    this.connections.delete(conn)
    const session = conn.session
    if (!session || session.sink !== conn) return
    session.sink = null
    if (SESSION_ENDING.has(code) && !opts.resumable) this.#endSession(session)
    else this.#startExpiry(session)
  }

  heartbeatReceived(): void {
    this.heartbeats++
  }

  onSent(t: string, s: number): void {
    this.options.onDispatch?.({ t, s, sentAt: performance.timeOrigin + performance.now() })
  }

  #startExpiry(session: GatewaySession): void {
    session.clearExpiry()
    session.expiry = setTimeout(() => this.#endSession(session), this.options.resumeWindowMs)
    session.expiry.unref()
  }

  #endSession(session: GatewaySession): void {
    session.clearExpiry()
    this.sessions.delete(session.id)
  }

  /**
   * Fans a guild's dispatch out to every session whose intents allow it and whose shard owns the
   * guild, while the bot is in the guild (its own removal, GUILD_DELETE, excepted) and the guild is
   * available (the outage's GUILD_DELETE and the GUILD_CREATE that ends it excepted).
   */
  dispatch(event: WorldDispatch): void {
    const { t, d, intent, guildId } = event
    const guild = this.world().guild(guildId)
    const membership = t === E.GuildDelete || t === E.GuildCreate
    if (!membership && (!guild?.botInGuild || !guild.available)) return
    for (const session of this.sessions.values()) {
      if (!session.owns(guildId)) continue
      if (intent !== 0 && (session.intents & intent) === 0) continue
      session.dispatch(
        t,
        t === E.GuildCreate ? forIntents(d as GatewayGuildCreateDispatchData, session.intents) : d,
      )
    }
  }

  // ---- fault injection -----------------------------------------------------------------------

  /** Closes every connection (of shard `shardId` only, when given) with `code`. */
  closeAll(code: number, shardId?: number): void {
    for (const conn of [...this.connections]) {
      if (shardId !== undefined && conn.session?.shard[0] !== shardId) continue
      conn.close(code, 'Closed by the emulator')
    }
  }

  reconnectAll(): void {
    for (const conn of [...this.connections]) {
      conn.reconnect()
      // Discord closes the socket itself a little later if the client doesn't.
      setTimeout(() => conn.close(C.UnknownError, 'Reconnect'), 2000).unref()
    }
  }

  invalidateAll(resumable: boolean): void {
    for (const conn of [...this.connections]) {
      const session = conn.session
      if (!session) continue
      conn.invalidSession(resumable)
      if (resumable) this.#startExpiry(session)
      else this.#endSession(session)
    }
  }

  /** Op 1 to every connection: each client must answer with a heartbeat at once. */
  requestHeartbeats(): void {
    for (const conn of [...this.connections]) conn.requestHeartbeat()
  }

  setAcks(enabled: boolean): void {
    this.#acks = enabled
  }

  refuse(ms: number): void {
    this.#refuseUntil = Date.now() + ms
  }

  /** Forgets every session and drops every connection (no resume possible). */
  restart(): void {
    this.endAllSessions(1006)
  }

  /** Forgets every session and closes every connection with `code` (1006 drops TCP). */
  endAllSessions(code: number): void {
    for (const s of this.sessions.values()) s.clearExpiry()
    this.sessions.clear()
    for (const conn of [...this.connections]) conn.close(code, 'Session ended by the emulator')
  }

  /** Restores the initial fault and counter state. */
  resetState(): void {
    this.restart()
    this.#acks = true
    this.#refuseUntil = 0
    this.lastAllMembersRequest.clear()
    this.identifies = 0
    this.resumes = 0
    this.sessionTakeovers = 0
    this.heartbeats = 0
    this.originConnections.gateway = 0
    this.originConnections.resume = 0
    this.limits.reset()
  }

  async close(): Promise<void> {
    this.restart()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }
}
