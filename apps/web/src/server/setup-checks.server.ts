import {
  describeRedisTarget,
  type RedisConnectionEnv,
  redisConnectionOptions,
} from '@repo/discord-gateway/redis-sentinel-config'
import {
  checkDiscordSetup,
  DISCORD_CHECK_TITLES,
  type DiscordRest,
  type DiscordSetupReport,
  type SetupCheck,
  setupCheck,
} from '@repo/discord-integration'
import { Redis } from 'ioredis'
import { ROOM_CATEGORY_PREFIX } from '../features/rooms/category-allocator.server'
import { REQUIRED_BOT_PERMISSIONS } from '../features/rooms/discord-rooms.server'
import type { ServerConfig } from './config.server'

/*
 * The setup checks of this app, in one place for both users: `pnpm doctor` (src/server/doctor.ts)
 * runs all of them; the server's start-up check (runtime.server.ts) runs the Discord ones. The
 * Discord knowledge (endpoints, the permission algorithm, the install link) is in
 * @repo/discord-integration; this module adds what only the app knows (the permissions rooms
 * need, the intents it asks for, its redirect and category names) and the two checks that are not
 * Discord's: Redis and PUBLIC_URL.
 */

/** Every check `pnpm doctor` makes, in its order (`--skip` takes these ids): id → title. */
export const SETUP_CHECK_TITLES = {
  config: 'configuration',
  ...DISCORD_CHECK_TITLES,
  redis: 'Redis',
  'public-url': 'PUBLIC_URL reachable',
} as const

/** The ids of {@link SETUP_CHECK_TITLES}, in order. */
export const SETUP_CHECK_IDS: readonly string[] = Object.keys(SETUP_CHECK_TITLES)

/** The OAuth2 redirect the app sends, which must be registered with the application. */
export function redirectUri(config: ServerConfig): string {
  return `${config.PUBLIC_URL}/auth/callback`
}

/**
 * The Discord checks for a configuration (the start-up check runs exactly these): the token and
 * its application, the client secret, the redirect, the intents, the bot in the server and its
 * permissions there and on the room categories. `guildId`: which server (default the home
 * server, DISCORD_GUILD_ID); the start-up check and `pnpm doctor` run it for each pool server.
 */
export function checkDiscord(
  config: ServerConfig,
  rest: DiscordRest,
  guildId: string = config.DISCORD_GUILD_ID,
): Promise<DiscordSetupReport> {
  return checkDiscordSetup({
    rest,
    apiUrl: config.DISCORD_API_URL,
    webUrl: config.DISCORD_WEB_URL,
    clientId: config.DISCORD_CLIENT_ID,
    clientSecret: config.DISCORD_CLIENT_SECRET,
    guildId,
    redirectUri: redirectUri(config),
    requiredPermissions: REQUIRED_BOT_PERMISSIONS,
    guildMembersIntent: config.DISCORD_GUILD_MEMBERS_INTENT,
    categoryPrefix: ROOM_CATEGORY_PREFIX,
  })
}

/** The checks of one server (the others are the application's, the same for every server). */
export const GUILD_CHECK_IDS: readonly string[] = [
  'guild',
  'guild-permissions',
  'category-permissions',
]

/**
 * What a server's own checks found, for the guild registry: the permissions the bot lacks and the
 * checks that fail; null when Discord did not answer one of them.
 */
export function guildCheckOf(
  report: DiscordSetupReport,
): { missingPermissions: string[]; failingChecks: string[] } | null {
  const own = report.checks.filter((check) => GUILD_CHECK_IDS.includes(check.id))
  if (own.some((check) => check.status === 'error')) return null
  return {
    missingPermissions: [...report.missingPermissions],
    failingChecks: own.filter((check) => check.status === 'fail').map((check) => check.id),
  }
}

/**
 * Redis answers PING within `timeoutMs` (one connection, no retries, closed afterwards), reached
 * as the server reaches it: REDIS_URL, through the Sentinels with REDIS_SENTINELS.
 */
export async function checkRedis(env: RedisConnectionEnv, timeoutMs: number): Promise<SetupCheck> {
  const title = SETUP_CHECK_TITLES.redis
  const url = env.REDIS_URL
  if (!url) {
    return setupCheck(
      'redis',
      title,
      'ok',
      'not configured (no REDIS_URL): one node, with file stores in DATA_DIR',
    )
  }
  const where = describeRedisTarget(env)
  const sentinel = env.REDIS_SENTINELS !== undefined
  const redis = new Redis(url, {
    ...redisConnectionOptions(env),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // One round over the Sentinels, then the error.
    sentinelRetryStrategy: () => null,
    failoverDetector: false,
  })
  // The connection error itself (ECONNREFUSED...) comes as an event; the promise below only
  // says "Connection is closed.". Without a listener ioredis would print it.
  let connectionError: unknown
  redis.on('error', (error) => {
    connectionError ??= error
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const answer = await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('TIMEOUT')), timeoutMs)
      }),
    ])
    if (answer !== 'PONG') throw new Error(`answered ${answer}`)
    return setupCheck('redis', title, 'ok', `Redis at ${where} answers PING`)
  } catch (error) {
    const reason = redisFailure(connectionError ?? error)
    const auth = /NOAUTH|WRONGPASS|AUTH/.test(reason)
    const settings = sentinel
      ? "REDIS_SENTINELS, REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD (the Sentinels), REDIS_URL (the master's password and database)"
      : 'REDIS_URL (or REDIS_URL_FILE)'
    return setupCheck(
      'redis',
      title,
      'fail',
      auth
        ? `Redis at ${where} refuses the credentials${sentinel ? '' : ' in REDIS_URL'} (${reason})`
        : `Redis at ${where} does not answer (${reason})`,
      auth
        ? sentinel
          ? `correct the password: REDIS_SENTINEL_PASSWORD for the Sentinels, REDIS_URL's for the master (or the files their _FILE variables name)`
          : 'correct the user name and password in REDIS_URL (or the file REDIS_URL_FILE names)'
        : `start Redis there or correct ${settings}; without REDIS_URL the server runs as one node with file stores`,
    )
  } finally {
    clearTimeout(timer)
    redis.disconnect()
  }
}

function redisFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error'
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  if (error.message === 'TIMEOUT') return `no answer within the time limit`
  // Redis' own error replies ("WRONGPASS invalid username-password pair") name no secret.
  return error.message.split('\n')[0]?.slice(0, 120) ?? error.name
}

/** Codes of Node's TLS errors (certificate not trusted, expired, wrong host...). */
const TLS_CODE = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/

/**
 * `PUBLIC_URL` reaches this app: `GET ${PUBLIC_URL}/api/health/live` answers the live probe within
 * `timeoutMs`, without a redirect. Each way of failing gets its own message, first of all "nothing
 * is running there yet".
 */
export async function checkPublicUrl(
  publicUrl: string,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<SetupCheck> {
  const title = SETUP_CHECK_TITLES['public-url']
  const target = `${publicUrl}/api/health/live`
  const fail = (message: string, fix: string) =>
    setupCheck('public-url', title, 'fail', message, fix)
  let response: Response
  try {
    response = await fetchImpl(target, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause
    const code = typeof cause?.code === 'string' ? cause.code : (error as Error).name
    if (code === 'ECONNREFUSED') {
      return fail(
        `nothing is running at ${publicUrl} yet (connection refused)`,
        'start the server (pnpm start) and run pnpm doctor again; behind a reverse proxy, check that the proxy listens there. Before the first start, `pnpm doctor --skip public-url` checks everything else',
      )
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return fail(
        `the host name of ${publicUrl} does not resolve (${code})`,
        'create its DNS record, or correct PUBLIC_URL',
      )
    }
    if (code === 'TimeoutError' || code === 'AbortError') {
      return fail(
        `${target} did not answer within ${timeoutMs / 1000} s`,
        'check that the server runs and that no firewall drops the connection',
      )
    }
    if (TLS_CODE.test(code)) {
      return fail(
        `the TLS certificate at ${publicUrl} is not accepted (${code})`,
        "give the reverse proxy a valid certificate for PUBLIC_URL's host name",
      )
    }
    return fail(`${target} could not be fetched (${code})`, 'check PUBLIC_URL and the network')
  }
  const body = response.status === 200 ? await response.text().catch(() => '') : ''
  if (response.status !== 200) await response.body?.cancel().catch(() => undefined)
  if (response.status >= 300 && response.status < 400) {
    return fail(
      `${target} redirects (${response.status}) to ${response.headers.get('location') ?? '?'}`,
      'set PUBLIC_URL to the address browsers end up at, scheme included (https:// behind a TLS proxy)',
    )
  }
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    return fail(
      `the proxy at ${publicUrl} answers ${response.status}: the server behind it is not running or not reachable`,
      'start the server (pnpm start) and check that the proxy forwards to its HOST:PORT',
    )
  }
  if (response.status !== 200 || !isLiveProbe(body)) {
    return fail(
      `${target} answers ${response.status}, not this app's live probe`,
      'check PUBLIC_URL, and that the proxy forwards every path (/api/ included) to the server',
    )
  }
  return setupCheck(
    'public-url',
    title,
    'ok',
    `${target} answers: the server runs and PUBLIC_URL reaches it`,
  )
}

/** The body of this app's /api/health/live: `{"status":"live"}`. */
function isLiveProbe(body: string): boolean {
  try {
    return (JSON.parse(body) as { status?: unknown }).status === 'live'
  } catch {
    return false
  }
}
