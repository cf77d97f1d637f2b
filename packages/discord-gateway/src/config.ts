import { readSecretFiles } from '@repo/file-persistence'
import type { RedisOptions } from 'ioredis'
import { z } from 'zod'
import { GatewayError } from './errors'
import {
  REDIS_SENTINEL_ENV,
  redisConnectionOptions,
  refineRedisSentinelEnv,
} from './redis-sentinel-config'

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

/** The environment the gateway reads. */
export const GatewayEnvSchema = z.object({
  DISCORD_API_URL: z.url().default('https://discord.com/api'),
  DISCORD_BOT_TOKEN: z.string().min(1),
  DISCORD_GUILD_ID: z.string().regex(/^\d{17,20}$/, 'expected a Discord snowflake'),
  DISCORD_GUILD_MEMBERS_INTENT: booleanish.default(false),
  /** Shards to run; unset = GET /gateway/bot's recommendation (resharding on close 4011). */
  DISCORD_SHARD_COUNT: z.coerce.number().int().min(1).max(65_535).optional(),
  GATEWAY_SESSION_FILE: z.string().min(1).optional(),
})

/** Options for createVoiceFeed, parsed from the environment. */
export interface GatewayEnv {
  apiUrl: string
  token: string
  guildId: string
  intents: { guildMembers: boolean }
  /** DISCORD_SHARD_COUNT, or undefined: the recommended count. */
  shardCount: number | undefined
  sessionFile: string | undefined
}

/**
 * Parses DISCORD_API_URL, DISCORD_BOT_TOKEN, DISCORD_GUILD_ID (and the optional
 * DISCORD_GUILD_MEMBERS_INTENT, GATEWAY_SESSION_FILE). The token may come from a file named by
 * DISCORD_BOT_TOKEN_FILE (a mounted container secret; trailing newline ignored). Throws
 * GatewayError INVALID_CONFIG naming the offending variables, never their values.
 */
export function parseGatewayEnv(
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string,
): GatewayEnv {
  const files = readSecretFiles(env, ['DISCORD_BOT_TOKEN'], readFile)
  if (files.problems.length > 0) {
    throw new GatewayError(
      'INVALID_CONFIG',
      `invalid gateway environment: ${files.problems.map((p) => p.message).join('; ')}`,
    )
  }
  const parsed = GatewayEnvSchema.safeParse(files.env)
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ')
    throw new GatewayError('INVALID_CONFIG', `invalid gateway environment: ${names}`)
  }
  const e = parsed.data
  return {
    apiUrl: e.DISCORD_API_URL,
    token: e.DISCORD_BOT_TOKEN,
    guildId: e.DISCORD_GUILD_ID,
    intents: { guildMembers: e.DISCORD_GUILD_MEMBERS_INTENT },
    shardCount: e.DISCORD_SHARD_COUNT,
    sessionFile: e.GATEWAY_SESSION_FILE,
  }
}

const LogLevelSchema = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info')

/** The environment of `discord-gateway-worker` (a gateway candidate on its own). */
export const WorkerEnvSchema = GatewayEnvSchema.omit({ GATEWAY_SESSION_FILE: true })
  .extend({
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }),
    /** Redis behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD). */
    ...REDIS_SENTINEL_ENV,
    /** Prefix of every Redis key of this deployment (the same on every node and worker). */
    REDIS_PREFIX: z.string().min(1).default('tv:'),
    /** How long the gateway lease outlives its last renewal (ms; the same on every candidate). */
    GATEWAY_LEASE_MS: z.coerce.number().int().min(300).max(600_000).default(15_000),
    /** `XADD … MAXLEN ~` of the voice stream. */
    GATEWAY_STREAM_MAXLEN: z.coerce.number().int().min(100).max(10_000_000).default(10_000),
    /** This candidate's id in the lease (default: host:pid:random). */
    GATEWAY_HOLDER_ID: z
      .string()
      .regex(/^[\w.:@-]{1,200}$/)
      .optional(),
    /** Serve GET /health (JSON) on this port (0 = a free one, printed in the log); unset = none. */
    WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
    /** The shards this worker competes for, e.g. `0,2` (default: every shard). */
    GATEWAY_SHARD_IDS: z
      .string()
      .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'expected shard ids like 0,2')
      .transform((v) =>
        [...new Set(v.split(',').map((id) => Number(id.trim())))].sort((a, b) => a - b),
      )
      .optional(),
    LOG_LEVEL: LogLevelSchema,
  })
  .superRefine(refineRedisSentinelEnv)

/** The worker's settings, parsed from the environment. */
export interface WorkerEnv {
  apiUrl: string
  token: string
  guildId: string
  intents: { guildMembers: boolean }
  /** DISCORD_SHARD_COUNT, or undefined: the count stored in Redis, else the recommendation. */
  shardCount: number | undefined
  /** GATEWAY_SHARD_IDS, or undefined: every shard. */
  shardIds: number[] | undefined
  redisUrl: string
  /** The ioredis options REDIS_URL needs (the Sentinel options with REDIS_SENTINELS; else none). */
  redisOptions: RedisOptions
  prefix: string
  leaseMs: number
  streamMaxLen: number
  holderId: string | undefined
  health: { port: number; host: string } | null
  logLevel: z.infer<typeof LogLevelSchema>
}

/** The variables that hold secrets: each may instead name a file with `<NAME>_FILE`. */
export const WORKER_SECRETS = ['DISCORD_BOT_TOKEN', 'REDIS_URL', 'REDIS_SENTINEL_PASSWORD'] as const

/**
 * Parses the worker's environment (secrets also from `*_FILE`). Empty values count as unset.
 * Throws GatewayError INVALID_CONFIG naming the offending variables, never their values.
 */
export function parseWorkerEnv(
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string,
): WorkerEnv {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const files = readSecretFiles(set, WORKER_SECRETS, readFile)
  if (files.problems.length > 0) {
    throw new GatewayError('INVALID_CONFIG', files.problems.map((p) => p.message).join('; '))
  }
  const parsed = WorkerEnvSchema.safeParse(files.env)
  if (!parsed.success) {
    // zod's own messages may quote a value: only our custom ones (which never do) are shown.
    const names = [
      ...new Set(
        parsed.error.issues.map((i) =>
          i.code === 'custom' ? `${i.path.join('.')} (${i.message})` : i.path.join('.'),
        ),
      ),
    ].join(', ')
    throw new GatewayError('INVALID_CONFIG', `invalid gateway worker environment: ${names}`)
  }
  const e = parsed.data
  return {
    apiUrl: e.DISCORD_API_URL,
    token: e.DISCORD_BOT_TOKEN,
    guildId: e.DISCORD_GUILD_ID,
    intents: { guildMembers: e.DISCORD_GUILD_MEMBERS_INTENT },
    shardCount: e.DISCORD_SHARD_COUNT,
    shardIds: e.GATEWAY_SHARD_IDS,
    redisUrl: e.REDIS_URL,
    redisOptions: redisConnectionOptions(e),
    prefix: e.REDIS_PREFIX,
    leaseMs: e.GATEWAY_LEASE_MS,
    streamMaxLen: e.GATEWAY_STREAM_MAXLEN,
    holderId: e.GATEWAY_HOLDER_ID,
    health:
      e.WORKER_HEALTH_PORT === undefined
        ? null
        : { port: e.WORKER_HEALTH_PORT, host: e.WORKER_HEALTH_HOST },
    logLevel: e.LOG_LEVEL,
  }
}
