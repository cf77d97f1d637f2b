import type { RedisOptions } from 'ioredis'
import { z } from 'zod'

/** One Sentinel's address. */
export interface SentinelAddress {
  host: string
  port: number
}

/** The port a Sentinel listens on when REDIS_SENTINELS names only its host. */
export const DEFAULT_SENTINEL_PORT = 26379

/** At most this many Sentinels in REDIS_SENTINELS (a deployment runs three or five). */
const MAX_SENTINELS = 16

// A DNS name or an IPv4 address; IPv6 in brackets (`[::1]:26379`).
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const IPV6 = /^\[([0-9A-Fa-f:.]{2,45})\]$/

/** `host`, `host:port` or `[ipv6]:port`; null when it is none of them. */
function parseSentinel(entry: string): SentinelAddress | null {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(entry)
  if (!match) return null
  const rawHost = match[1] ?? ''
  const port = match[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(match[2])
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null
  const v6 = IPV6.exec(rawHost)
  const host = v6 ? v6[1] : HOST.test(rawHost) && rawHost.length <= 253 ? rawHost : null
  return host ? { host, port } : null
}

/**
 * `REDIS_SENTINELS`: `host:port,host:port` (spaces around entries ignored; a missing port is
 * 26379). Each bad entry is one issue naming its position, never its text.
 */
const SentinelListSchema = z.string().transform((value, ctx): SentinelAddress[] => {
  const entries = value.split(',').map((entry) => entry.trim())
  const out: SentinelAddress[] = []
  entries.forEach((entry, index) => {
    const address = entry === '' ? null : parseSentinel(entry)
    if (address) out.push(address)
    else
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index + 1} is not host:port (a host name or IP address, port 1-65535; IPv6 as [addr]:port)`,
      })
  })
  if (entries.length > MAX_SENTINELS) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_SENTINELS} Sentinels` })
  }
  const seen = new Set(out.map((a) => `${a.host}:${a.port}`))
  if (seen.size !== out.length) {
    ctx.addIssue({ code: 'custom', message: 'a Sentinel is listed twice' })
  }
  return out
})

/**
 * The Sentinel variables, to spread into an environment schema (the web server's and the gateway
 * worker's), checked together by {@link refineRedisSentinelEnv}. Empty values must count as unset
 * before parsing (both parsers drop them).
 */
export const REDIS_SENTINEL_ENV = {
  /** The Sentinels to ask for the master's address: `host:port,host:port`. */
  REDIS_SENTINELS: SentinelListSchema.optional(),
  /** The master group's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]{1,100}$/,
      'letters, digits and . _ - only (the name in sentinel monitor)',
    )
    .optional(),
  /** The Sentinels' own password (`requirepass` in sentinel.conf), if they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
}

/** The variables this module reads, once parsed by {@link REDIS_SENTINEL_ENV}. */
export interface RedisConnectionEnv {
  REDIS_URL?: string | undefined
  REDIS_SENTINELS?: SentinelAddress[] | undefined
  REDIS_SENTINEL_NAME?: string | undefined
  REDIS_SENTINEL_PASSWORD?: string | undefined
}

/** The issue sink of a zod `superRefine`. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: string[]; message: string }): void
}

/**
 * The rules across variables: REDIS_SENTINELS and REDIS_SENTINEL_NAME go together, need
 * REDIS_URL (the master's credentials, database and TLS), and REDIS_SENTINEL_PASSWORD means
 * nothing without them. Call it from the schema's `superRefine`.
 */
export function refineRedisSentinelEnv(env: RedisConnectionEnv, ctx: IssueSink): void {
  const sentinels = env.REDIS_SENTINELS !== undefined
  if (sentinels && env.REDIS_SENTINEL_NAME === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_SENTINEL_NAME'],
      message: 'not set: REDIS_SENTINELS needs the master name the Sentinels monitor',
    })
  }
  if (sentinels && env.REDIS_URL === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_SENTINELS'],
      message:
        'needs REDIS_URL too (its user, password, database and rediss:// apply to the master; the Sentinels give its address)',
    })
  }
  for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
    if (!sentinels && env[name] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'only used with REDIS_SENTINELS (set it, or unset this)',
      })
    }
  }
}

/** READONLY: this connection writes to a replica (a master demoted by a failover). */
const onReadOnly = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false)

/**
 * The ioredis options every Redis client of the process adds to its own, from the parsed
 * environment: none with REDIS_URL alone (the URL's host is the server); with REDIS_SENTINELS,
 * the Sentinel options, so the client asks the Sentinels for the current master of
 * REDIS_SENTINEL_NAME, connects there with REDIS_URL's user, password and database (its host and
 * port are not used), and finds the new master by itself after a failover:
 *
 * - `failoverDetector`: it follows the Sentinels' `+switch-master` and reconnects at once.
 * - `reconnectOnError`: a write answered READONLY (it reached the demoted master) reconnects,
 *   asking the Sentinels again, and is sent once more (READONLY means it was not applied).
 *   Clients without an offline queue reject it instead; their callers retry.
 * - `rediss://` encrypts the connections to the master (`enableTLSForSentinelMode`); the
 *   Sentinels are reached over plain TCP.
 */
export function redisConnectionOptions(env: RedisConnectionEnv): RedisOptions {
  if (env.REDIS_SENTINELS === undefined || env.REDIS_SENTINEL_NAME === undefined) return {}
  return {
    sentinels: env.REDIS_SENTINELS.map(({ host, port }) => ({ host, port })),
    name: env.REDIS_SENTINEL_NAME,
    role: 'master',
    ...(env.REDIS_SENTINEL_PASSWORD !== undefined
      ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD }
      : {}),
    sentinelCommandTimeout: 2_000,
    failoverDetector: true,
    reconnectOnError: onReadOnly,
    enableTLSForSentinelMode: env.REDIS_URL?.startsWith('rediss:') ?? false,
  }
}

/**
 * Where this process's Redis is, for logs and the setup check (no credentials): the URL's
 * `redis://host:port/db`, or the master name and its Sentinels.
 */
export function describeRedisTarget(env: RedisConnectionEnv): string {
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME !== undefined) {
    const list = env.REDIS_SENTINELS.map(({ host, port }) =>
      host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    ).join(',')
    return `master "${env.REDIS_SENTINEL_NAME}" of the Sentinels ${list}`
  }
  if (env.REDIS_URL === undefined) return 'no Redis'
  try {
    const parsed = new URL(env.REDIS_URL)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return 'REDIS_URL'
  }
}
