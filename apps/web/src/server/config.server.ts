import {
  REDIS_SENTINEL_ENV,
  refineRedisSentinelEnv,
} from '@repo/discord-gateway/redis-sentinel-config'
import { readSecretFiles } from '@repo/file-persistence'
import { z } from 'zod'

/**
 * Variables that may instead name a file holding the value (`SESSION_SECRET_FILE=/run/secrets/x`),
 * as container platforms mount secrets. REDIS_URL is one since it may carry a password.
 */
export const SECRET_FILE_VARIABLES = [
  'SESSION_SECRET',
  'DISCORD_BOT_TOKEN',
  'DISCORD_CLIENT_SECRET',
  'METRICS_TOKEN',
  'REDIS_URL',
  'REDIS_SENTINEL_PASSWORD',
] as const

/** The most pool servers DISCORD_GUILD_IDS may list. */
export const MAX_POOL_GUILDS = 100

const snowflake = (message: string) => z.string().regex(/^\d{17,20}$/, message)

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** What the removed HTTP hub's settings are told. */
const REMOVED_HUB =
  'the HTTP hub (GATEWAY_MODE=hub, HUB_URL, HUB_SECRET, discord-gateway-hub) was removed: set REDIS_URL on every node; each web node is then a candidate for the gateway (GATEWAY_MODE=in-process), or run discord-gateway-worker processes and set GATEWAY_MODE=worker (docs/operations.md#several-nodes)'

/** Variables of the removed hub: set, they stop the server with REMOVED_HUB. */
const REMOVED_VARIABLES = ['HUB_URL', 'HUB_SECRET', 'HUB_SECRET_FILE'] as const

/**
 * The server's configuration, parsed once from the environment at start-up.
 * A bad or missing value stops the server with a message naming every problem.
 * Every variable is documented in the repository's .env.example.
 */
const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    PUBLIC_URL: z.url().optional(),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    DISCORD_API_URL: z.url().default('https://discord.com/api'),
    DISCORD_WEB_URL: z.url().default('https://discord.com'),
    DISCORD_BOT_TOKEN: z.string().min(20, 'DISCORD_BOT_TOKEN looks too short'),
    DISCORD_CLIENT_ID: z.string().regex(/^\d{17,20}$/, 'DISCORD_CLIENT_ID must be a snowflake'),
    DISCORD_CLIENT_SECRET: z.string().min(8, 'DISCORD_CLIENT_SECRET looks too short'),
    /** The server rooms go in (a pool of one); with DISCORD_GUILD_IDS, it joins that pool. */
    DISCORD_GUILD_ID: snowflake('DISCORD_GUILD_ID must be a snowflake').optional(),
    /** The pool: servers of the operator's own that rooms spread over (comma-separated ids). */
    DISCORD_GUILD_IDS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((id) => id.trim())
          .filter((id) => id !== ''),
      )
      .pipe(
        z
          .array(snowflake('DISCORD_GUILD_IDS must be a comma-separated list of snowflakes'))
          .max(MAX_POOL_GUILDS, `DISCORD_GUILD_IDS lists at most ${MAX_POOL_GUILDS} servers`),
      )
      .optional(),
    SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters'),
    REDIS_URL: z.url().optional(),
    /** Redis behind Sentinel: REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD. */
    ...REDIS_SENTINEL_ENV,
    /** Prefix of every Redis key and channel of this deployment (nodes sharing it cooperate). */
    REDIS_PREFIX: z.string().min(1).default('tv:'),
    /** How long the cleanup leader's Redis lease outlives its last renewal (ms). */
    LEADER_LEASE_MS: z.coerce.number().int().min(300).max(600_000).default(15_000),
    DATA_DIR: z.string().min(1).default('.data'),
    /**
     * Where the Discord gateway runs. `in-process` (default): in this web server (with REDIS_URL,
     * every web node is a candidate for the gateway lease). `worker`: in `discord-gateway-worker`
     * processes; this node only reads the voice stream (needs REDIS_URL).
     */
    GATEWAY_MODE: z
      .string()
      .default('in-process')
      .pipe(
        z.enum(['in-process', 'worker'], {
          error: (issue) =>
            issue.input === 'hub'
              ? REMOVED_HUB
              : 'must be in-process (the gateway runs in the web nodes) or worker (in discord-gateway-worker processes)',
        }),
      ),
    /** How long the gateway lease outlives its last renewal (ms; the same on every node and worker). */
    GATEWAY_LEASE_MS: z.coerce.number().int().min(300).max(600_000).default(15_000),
    /** `XADD … MAXLEN ~` of the guild's voice stream (entries a slow node can fall behind). */
    GATEWAY_STREAM_MAXLEN: z.coerce.number().int().min(100).max(10_000_000).default(10_000),
    /**
     * Gateway shards (the same on every node and worker); unset: GET /gateway/bot's
     * recommendation, resharding by itself on close 4011 (every node follows the count in Redis).
     */
    DISCORD_SHARD_COUNT: z.coerce.number().int().min(1).max(65_535).optional(),
    /** The shards this node's gateway candidates compete for, e.g. `0,2` (unset: every shard). */
    GATEWAY_SHARD_IDS: z
      .string()
      .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'shard ids like 0,2')
      .transform((v) => [...new Set(v.split(',').map((id) => Number(id.trim())))])
      .optional(),
    /** This node's stream lag (ms) above which /api/health says degraded. */
    GATEWAY_MAX_LAG_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    /** This node's id in the gateway lease (default: host:pid:random). */
    GATEWAY_HOLDER_ID: z
      .string()
      .regex(/^[\w.:@-]{1,200}$/, 'letters, digits and . : @ _ - only')
      .optional(),
    /**
     * Ask for the privileged Server Members intent (it must be switched on in the Developer
     * Portal, or the gateway is closed with 4014): then a player's new name or avatar reaches the
     * pages even while they are not in voice (GUILD_MEMBER_UPDATE); without it, only through their
     * voice state. Rooms work without it.
     */
    DISCORD_GUILD_MEMBERS_INTENT: booleanish.default(false),
    /**
     * Community servers: any Discord server that installs the bot offers rooms to its members.
     * Sign-in then also asks for the `guilds` scope; the create-room form gets a "Server" picker
     * and managers a settings page per server. Off: only DISCORD_GUILD_ID's server, as before.
     */
    ROOMS_COMMUNITY: booleanish.default(false),
    /** How long a dropped player (page and voice both gone) keeps their seat, in seconds. */
    SEAT_GRACE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
    /**
     * Reverse proxies in front of the server that append the client's address to X-Forwarded-For
     * (0: none, the socket's peer is the client). Per-address limits (room code attempts) read it.
     */
    TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
    /**
     * Bearer token for /metrics and the detailed /api/health. Unset: they answer only requests
     * made on this machine directly (loopback, no proxy headers); see docs/operations.md.
     */
    METRICS_TOKEN: z.string().min(32, 'METRICS_TOKEN must be at least 32 characters').optional(),
  })
  .superRefine((env, ctx) => {
    if (!env.DISCORD_GUILD_ID && (env.DISCORD_GUILD_IDS ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['DISCORD_GUILD_ID'],
        message:
          'not set (set DISCORD_GUILD_ID to your server, or DISCORD_GUILD_IDS to a comma-separated pool of servers)',
      })
    }
    refineRedisSentinelEnv(env, ctx)
    if (env.GATEWAY_MODE === 'worker' && !env.REDIS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_MODE'],
        message:
          'worker needs REDIS_URL (the web nodes read the voice stream the discord-gateway-worker processes write there)',
      })
    }
  })

export type ServerConfig = Readonly<
  Omit<z.infer<typeof EnvSchema>, 'PUBLIC_URL' | 'DISCORD_GUILD_ID' | 'DISCORD_GUILD_IDS'> & {
    PUBLIC_URL: string
    /**
     * The home server: DISCORD_GUILD_ID, else the first of DISCORD_GUILD_IDS. Rooms and categories
     * stored before servers were recorded belong to it.
     */
    DISCORD_GUILD_ID: string
    /** The pool (see guildPool): DISCORD_GUILD_ID first, then DISCORD_GUILD_IDS, without repeats. */
    DISCORD_GUILD_IDS: readonly string[]
  }
>

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

/**
 * Parses and freezes the configuration, reading `NAME_FILE` variables (SECRET_FILE_VARIABLES)
 * with `readFile`; throws ConfigError listing every problem.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string,
): ServerConfig {
  const files = readSecretFiles(env, SECRET_FILE_VARIABLES, readFile)
  // Empty strings in .env files mean "unset".
  const cleaned = Object.fromEntries(Object.entries(files.env).filter(([, v]) => v !== ''))
  const result = EnvSchema.safeParse(cleaned)
  const fileProblems = new Set(files.problems.map((p) => p.name))
  const problems = [
    ...REMOVED_VARIABLES.filter((name) => cleaned[name] !== undefined).map(
      (name) => `${name}: ${REMOVED_HUB}`,
    ),
    ...files.problems.map((p) => p.message),
    // A variable whose file failed is reported once, by the file problem.
    ...(result.error?.issues ?? [])
      .filter((issue) => !fileProblems.has(String(issue.path[0])))
      .map((issue) => `${String(issue.path[0] ?? 'env')}: ${problemText(issue)}`),
  ]
  if (!result.success || problems.length > 0) throw new ConfigError(problems)
  const parsed = result.data
  const publicUrl = (parsed.PUBLIC_URL ?? `http://${parsed.HOST}:${parsed.PORT}`).replace(/\/$/, '')
  const pool = guildPool(parsed.DISCORD_GUILD_ID, parsed.DISCORD_GUILD_IDS ?? [])
  return Object.freeze({
    ...parsed,
    PUBLIC_URL: publicUrl,
    DISCORD_GUILD_ID: pool[0] as string,
    DISCORD_GUILD_IDS: Object.freeze(pool),
  })
}

/**
 * The pool of servers rooms go in: DISCORD_GUILD_ID (a pool of one) and DISCORD_GUILD_IDS, merged,
 * DISCORD_GUILD_ID first, without repeats. The one place the two variables are combined.
 */
export function guildPool(guildId: string | undefined, guildIds: readonly string[]): string[] {
  return [...new Set([...(guildId ? [guildId] : []), ...guildIds])]
}

/** A missing required variable says so, rather than zod's "expected string, received undefined". */
function problemText(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' && /received undefined$/.test(issue.message)
    ? 'not set'
    : issue.message
}

const g = globalThis as unknown as { __serverConfig?: ServerConfig }

/** The process-wide configuration (parsed on first use). */
export function getConfig(): ServerConfig {
  g.__serverConfig ??= parseConfig(process.env)
  return g.__serverConfig
}
