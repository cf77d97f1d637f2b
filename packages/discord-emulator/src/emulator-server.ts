/**
 * The emulator's HTTP servers. The main port serves REST (/api), the gateway (WebSocket upgrades
 * on /), OAuth2 authorize, the tiny Discord client (/channels/{g}/{c}) and the control API. A
 * second loopback port is the resume origin that READY's `resume_gateway_url` names: Discord hands
 * out bare origins (`wss://gateway-us-east1-b.discord.gg`) that clients open by appending
 * `/?v=10&encoding=json` (docs events/gateway "Preparing to Resume"), so the resume URL has no path.
 *
 * How to extend:
 * - A REST route: add `route(method, pattern, auth, handler)` to a `src/rest/routes-*.ts` list
 *   (or a new list registered in `ROUTES` below). Throw `Errors.*` / `formError` for Discord
 *   errors; find the guild with `requireGuild` / `requireChannel` and mutate it through `Guild`
 *   methods so the right dispatches go out (to the shard that owns the guild).
 * - A dispatch: emit it from a `Guild` mutation (`guild.emit`) with the intent bit that gates it.
 * - A fault knob: add it to `GatewayServer` or `FaultStore`, expose it in `createControl` and
 *   `control-routes.ts`, and document it in the README table.
 */
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { createControl, type EmulatorControl, type EmulatorState } from './control/control.ts'
import { handleControl } from './control/control-routes.ts'
import { EmulatorError } from './errors.ts'
import { type GatewayOrigin, GatewayServer } from './gateway/gateway-server.ts'
import { createLogger } from './log.ts'
import { handleAuthorize, page } from './oauth/authorize-page.ts'
import { type OAuthApp, OAuthStore } from './oauth/oauth-store.ts'
import { oauthRoutes } from './oauth/routes-oauth.ts'
import { FaultStore } from './rest/faults.ts'
import { redirect, send, sendHtml } from './rest/http.ts'
import { RateLimiter, type RateLimitOptions } from './rest/rate-limiter.ts'
import { RestRouter } from './rest/router.ts'
import { channelRoutes } from './rest/routes-channels.ts'
import { guildRoutes } from './rest/routes-guild.ts'
import { memberRoutes } from './rest/routes-members.ts'
import { roleRoutes } from './rest/routes-roles.ts'
import { userRoutes } from './rest/routes-users.ts'
import type { Runtime } from './runtime.ts'
import { handleClientPage } from './web/client-page.ts'
import { DEFAULT_WORLD } from './world/default-world.ts'
import { type ParsedWorldSeed, type WorldSeed, WorldSeedSchema } from './world/seed.ts'
import { World } from './world/world.ts'

const ROUTES = [
  ...userRoutes,
  ...guildRoutes,
  ...channelRoutes,
  ...memberRoutes,
  ...roleRoutes,
  ...oauthRoutes,
]

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** 0 = random free port. @defaultValue 0 */
  port?: number
  /** Port of the resume origin (READY's resume_gateway_url); 0 = random free port. @defaultValue 0 */
  resumePort?: number
  /** @defaultValue '127.0.0.1' */
  host?: string
  /** HELLO's heartbeat_interval. @defaultValue 41250 */
  heartbeatIntervalMs?: number
  /** How long a disconnected session stays resumable. @defaultValue 180000 */
  resumeWindowMs?: number
  /** A seed object or a path to a JSON file. @defaultValue {@link DEFAULT_WORLD} */
  world?: WorldSeed | string
  /** expires_in of OAuth access tokens. @defaultValue 604800 */
  oauthAccessTokenTtlSeconds?: number
  /** Identify throttling window per max_concurrency bucket. @defaultValue 5000 */
  identifyIntervalMs?: number
  /** session_start_limit.total. @defaultValue 1000 */
  sessionStartLimit?: number
  /**
   * Most guilds one shard may hold (IDENTIFY over it closes 4011; GET /gateway/bot recommends
   * enough shards). Overrides the world's `sharding.guildsPerShard`. @defaultValue 2500 (Discord's)
   */
  guildsPerShard?: number
  /**
   * `session_start_limit.max_concurrency`: identify buckets `shard_id % max_concurrency`, one
   * IDENTIFY per `identifyIntervalMs` each. Overrides the world's `sharding.maxConcurrency`.
   * @defaultValue 1
   */
  maxConcurrency?: number
  /** Channel caps. @defaultValue `{ channelsPerGuild: 500, channelsPerCategory: 50 }` */
  limits?: { channelsPerGuild?: number; channelsPerCategory?: number }
  /** REST rate limits. @defaultValue `{ route: { limit: 10, windowMs: 1000 }, globalPerSecond: 50 }` */
  rateLimits?: Partial<RateLimitOptions>
  /** Client gateway sends allowed per window (heartbeats excluded). @defaultValue `{ count: 120, windowMs: 60000 }` */
  gatewaySendLimit?: { count: number; windowMs: number }
  /** Called whenever a dispatch is written to a socket (benchmarks). */
  onDispatch?: (event: { t: string; s: number; sentAt: number }) => void
  /** No logs. @defaultValue false */
  quiet?: boolean
}

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:PORT/api`: the @discordjs/rest `api` option. */
  readonly restBase: string
  /** `http://127.0.0.1:PORT`: OAuth authorize page, /channels/{g}/{c}, /_emulator panel. */
  readonly webUrl: string
  /** `ws://127.0.0.1:PORT`: what `GET /gateway/bot` answers (a bare origin, like Discord's). */
  readonly gatewayUrl: string
  /** `ws://127.0.0.1:RESUME_PORT`: READY's `resume_gateway_url` (a bare origin on its own port). */
  readonly resumeGatewayUrl: string
  readonly port: number
  readonly guildId: string
  readonly botUserId: string
  readonly botToken: string
  readonly clientId: string
  readonly clientSecret: string
  readonly control: EmulatorControl
  close(): Promise<void>
}

function loadSeed(world: WorldSeed | string | undefined): ParsedWorldSeed {
  let raw: unknown = world ?? DEFAULT_WORLD
  if (typeof world === 'string') {
    try {
      raw = JSON.parse(readFileSync(world, 'utf8'))
    } catch (cause) {
      throw new EmulatorError('INVALID_WORLD', `cannot read world file ${world}`, { cause })
    }
  }
  const parsed = WorldSeedSchema.safeParse(raw)
  if (!parsed.success) {
    throw new EmulatorError('INVALID_WORLD', `invalid world seed: ${parsed.error.message}`)
  }
  return parsed.data
}

/**
 * Starts the emulator and resolves once it listens.
 * @example
 * const emu = await startEmulator({ heartbeatIntervalMs: 500, quiet: true })
 * const rest = new REST({ api: emu.restBase }).setToken(emu.botToken)
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = loadSeed(options.world)
  for (const [name, value, max] of [
    ['guildsPerShard', options.guildsPerShard, Number.MAX_SAFE_INTEGER],
    ['maxConcurrency', options.maxConcurrency, 1024],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > max)) {
      throw new EmulatorError('INVALID_INPUT', `${name} must be an integer from 1 to ${max}`)
    }
  }
  const limits = {
    channelsPerGuild: options.limits?.channelsPerGuild ?? 500,
    channelsPerCategory: options.limits?.channelsPerCategory ?? 50,
  }
  const log = createLogger(options.quiet ?? false)
  const host = options.host ?? '127.0.0.1'
  const urlHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const urls = { restBase: '', webUrl: '', gatewayUrl: '', resumeUrl: '' }
  const apps = (): OAuthApp[] => {
    const a = rt.world.application
    return [
      { id: a.id, secret: a.clientSecret, name: a.name, redirectUris: a.redirectUris },
      ...seed.extraApplications.map((x) => ({
        id: x.id,
        secret: x.clientSecret,
        name: x.name,
        redirectUris: [],
      })),
    ]
  }
  const gateway = new GatewayServer(() => rt.world, {
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41250,
    resumeWindowMs: options.resumeWindowMs ?? 180_000,
    identifyIntervalMs: options.identifyIntervalMs ?? 5000,
    sessionStartLimit: options.sessionStartLimit ?? 1000,
    sendLimit: options.gatewaySendLimit ?? { count: 120, windowMs: 60_000 },
    resumeUrl: () => urls.resumeUrl,
    ...(options.onDispatch ? { onDispatch: options.onDispatch } : {}),
    log,
  })
  const sharding = {
    ...(options.guildsPerShard !== undefined ? { guildsPerShard: options.guildsPerShard } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  }
  const makeWorld = () => {
    const world = new World(seed, limits, sharding)
    world.onDispatch = (e) => gateway.dispatch(e)
    return world
  }
  const rt: Runtime = {
    world: makeWorld(),
    gateway,
    oauth: new OAuthStore(options.oauthAccessTokenTtlSeconds ?? 604_800),
    apps,
    limiter: new RateLimiter({
      route: options.rateLimits?.route ?? { limit: 10, windowMs: 1000 },
      globalPerSecond: options.rateLimits?.globalPerSecond ?? 50,
    }),
    faults: new FaultStore(),
    log,
    urls,
    requestLog: [],
  }
  const control = createControl(rt, () => {
    rt.world = makeWorld()
  })
  const router = new RestRouter(rt, ROUTES)

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/api' || path.startsWith('/api/')) return router.handle(req, res)
    if (await handleControl(control, req, res)) return
    if (path === '/oauth2/authorize' && req.method === 'GET') return handleAuthorize(rt, req, res)
    if (await handleClientPage(rt, req, res)) return
    if (path === '/' && req.method === 'GET') return redirect(res, '/_emulator')
    sendHtml(
      res,
      404,
      page('Not found', '<p>Nothing here. Try <a href="/_emulator">/_emulator</a>.</p>'),
    )
  }
  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed')
      if (!res.headersSent) send(res, 500, { message: '500: Internal Server Error', code: 0 })
      else res.destroy()
    })
  })
  const onUpgrade =
    (origin: GatewayOrigin) => (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {})
      try {
        gateway.handleUpgrade(req, socket, head, origin)
      } catch (err) {
        log.error({ err }, 'upgrade failed')
        socket.destroy()
      }
    }
  server.on('upgrade', onUpgrade('gateway'))
  server.on('clientError', (_err, socket) => socket.destroy())
  // The resume origin only speaks the gateway protocol; plain HTTP gets Discord's bare 404.
  const resumeServer = createServer((_req, res) =>
    send(res, 404, { message: '404: Not Found', code: 0 }),
  )
  resumeServer.on('upgrade', onUpgrade('resume'))
  resumeServer.on('clientError', (_err, socket) => socket.destroy())
  const listen = (s: Server, p: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject)
      s.listen(p, host, () => resolve((s.address() as AddressInfo).port))
    })
  const port = await listen(server, options.port ?? 0)
  const resumePort = await listen(resumeServer, options.resumePort ?? 0).catch(async (err) => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw err
  })
  urls.webUrl = `http://${urlHost}:${port}`
  urls.restBase = `${urls.webUrl}/api`
  urls.gatewayUrl = `ws://${urlHost}:${port}`
  urls.resumeUrl = `ws://${urlHost}:${resumePort}`
  log.info(
    { restBase: urls.restBase, webUrl: urls.webUrl, resumeGatewayUrl: urls.resumeUrl },
    'Discord emulator listening',
  )
  const state: EmulatorState = control.state()
  let closed: Promise<void> | null = null
  return {
    restBase: urls.restBase,
    webUrl: urls.webUrl,
    gatewayUrl: urls.gatewayUrl,
    resumeGatewayUrl: urls.resumeUrl,
    port,
    guildId: state.guildId,
    botUserId: state.botUserId,
    // The current token: a reset through the control API replaces it, `reset()` restores it.
    get botToken() {
      return rt.world.botToken
    },
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    control,
    close() {
      closed ??= (async () => {
        await gateway.close()
        for (const s of [server, resumeServer]) {
          s.closeAllConnections()
          await new Promise<void>((resolve) => s.close(() => resolve()))
        }
      })()
      return closed
    },
  }
}
