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
import { shardOf } from '../world/sharding.ts'
import type { WorldDispatch } from '../world/types.ts'
import type { World } from '../world/world.ts'
import {
  handleRequestChannelInfo,
  handleRequestMembers,
  handleVoiceUpdate,
} from './client-requests.ts'
import { type ConnectionHost, GatewayConnection } from './connection.ts'
import { IdentifyLimits } from './identify-limits.ts'
import {
  forIntents,
  IdentifySchema,
  identifyRefusal,
  ResumeSchema,
  readyPayload,
} from './payloads.ts'
import { GatewaySession } from './session.ts'

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

/** Which listener a WebSocket came in on: the main gateway origin or the resume origin. */
export type GatewayOrigin = 'gateway' | 'resume'

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
    if (Date.now() < this.#refuseUntil) {
      socket.end(
        'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      )
      return
    }
    const path = url.pathname
    const known =
      path === '/' || (origin === 'gateway' && (path === '/resume' || path === '/resume/'))
    if (!known) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new GatewayConnection(ws, this)
      this.connections.add(conn)
      this.originConnections[origin]++
      const v = url.searchParams.get('v')
      const encoding = url.searchParams.get('encoding') ?? 'json'
      if (v !== null && v !== '10') conn.close(C.InvalidAPIVersion, 'Invalid API version')
      else if (encoding !== 'json' || url.searchParams.has('compress')) {
        // Only plain JSON is emulated (no ETF, no transport compression).
        conn.close(C.DecodeError, 'Unsupported encoding or compression')
      }
    })
  }

  identify(conn: GatewayConnection, raw: unknown): void {
    const parsed = IdentifySchema.safeParse(raw)
    if (!parsed.success) {
      conn.close(C.DecodeError, 'Error while decoding payload.')
      return
    }
    const d = parsed.data
    const world = this.world()
    const refusal = identifyRefusal(d, world)
    if (refusal) {
      conn.close(refusal.code, refusal.reason)
      return
    }
    const shard = d.shard ?? [0, 1]
    // Sharding formula: shard_id = (guild_id >> 22) % num_shards (docs events/gateway "Sharding").
    const botGuilds = world.botGuilds()
    const owned = botGuilds.filter((g) => shardOf(g.id, shard[1]) === shard[0])
    if (owned.length > world.sharding.guildsPerShard) {
      // "The session would have handled too many guilds" (4011 Sharding required).
      conn.close(C.ShardingRequired, 'Sharding required.')
      return
    }
    // One IDENTIFY per 5 s per bucket `shard_id % max_concurrency` (docs "Max Concurrency").
    const refused = this.limits.take(shard[0], world.sharding.maxConcurrency)
    if (refused === 'concurrency') {
      // Over max_concurrency: Discord answers op 9 (docs events/gateway "Identifying").
      conn.invalidSession(false)
      return
    }
    if (refused === 'quota') {
      // Quota exhausted: Discord terminates sessions and resets the token.
      conn.close(C.AuthenticationFailed, 'Authentication failed.')
      return
    }
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
