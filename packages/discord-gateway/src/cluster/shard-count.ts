import { REST } from '@discordjs/rest'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { DEFAULT_TIMINGS } from '../gateway/connection-options'
import { fetchGatewayInfoWithBackoff } from '../gateway/gateway-info'
import type { BackoffOptions } from '../supervision/backoff'
import { fullJitterDelay } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import { systemClock } from '../supervision/clock'
import { gatewayKeys, guildKeys } from './keys'
import { LuaScript } from './lua-script'

/** What {@link settleShardCount} needs. */
export interface ShardCountRequest {
  redis: Redis
  prefix: string
  /** DISCORD_SHARD_COUNT: stored for every node and used as is. */
  explicit?: number | undefined
  token: string
  apiUrl?: string | undefined
  rest?: REST | undefined
  backoff?: Partial<BackoffOptions> | undefined
  clock?: Clock | undefined
  random?: (() => number) | undefined
  signal: AbortSignal
  logger: Logger
}

/**
 * The shard count every node of a deployment runs: the explicit one (stored in Redis), else the
 * one Redis holds, else GET /gateway/bot's recommendation, stored with SET NX so that candidates
 * starting together agree on the first one stored. Redis failures (not connected yet, down) are
 * retried with backoff until `signal` aborts.
 */
export function settleShardCount(request: ShardCountRequest): Promise<number> {
  return retryingRedis(request, 'settle the shard count', () => settleOnce(request))
}

/** Runs `attempt` until it resolves, waiting with the gateway's backoff after each failure. */
async function retryingRedis<T>(
  request: Omit<ShardCountRequest, 'explicit'>,
  what: string,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await attempt()
    } catch (error) {
      request.signal.throwIfAborted()
      const delayMs = fullJitterDelay(
        failures,
        { ...DEFAULT_TIMINGS.backoff, ...request.backoff },
        request.random ?? Math.random,
      )
      request.logger.warn({ err: error, delayMs }, `could not ${what}; retrying`)
      await (request.clock ?? systemClock).sleep(delayMs, request.signal)
    }
  }
}

async function settleOnce(request: ShardCountRequest): Promise<number> {
  const key = guildKeys(request.prefix).shardCount
  if (request.explicit !== undefined) {
    await request.redis.set(key, String(request.explicit))
    return request.explicit
  }
  const stored = await readShardCount(request.redis, request.prefix)
  if (stored !== null) return stored
  const recommended = await recommendedCount(request)
  await request.redis.set(key, String(recommended), 'NX')
  return (await readShardCount(request.redis, request.prefix)) ?? recommended
}

/** GET /gateway/bot's recommended shard count, retried with backoff until it answers or `signal` aborts. */
async function recommendedCount(request: ShardCountRequest): Promise<number> {
  const rest =
    request.rest ?? new REST({ api: request.apiUrl ?? 'https://discord.com/api', version: '10' })
  rest.setToken(request.token)
  const info = await fetchGatewayInfoWithBackoff({
    rest,
    clock: request.clock ?? systemClock,
    backoff: { ...DEFAULT_TIMINGS.backoff, ...request.backoff },
    random: request.random ?? Math.random,
    signal: request.signal,
    onRetry: (error, retry, delayMs) =>
      request.logger.warn({ err: error, retry, delayMs }, 'GET /gateway/bot failed; retrying'),
  })
  return Math.max(1, info.shards)
}

/**
 * The deployment moves from `from` shards to `to`, only while Redis still holds `from` (or lost
 * the count): of the candidates that meet 4011 together, the first one's count stands. The old
 * count's session and handover hashes and its settled flags go with it (nobody runs that count
 * any more). KEYS: shard count, shards-settled hash, then the old shards' session and handover
 * hashes. ARGV: from, to. Returns the count Redis holds afterwards.
 */
const RESHARD = new LuaScript(
  'reshard',
  `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2])
for i = 0, tonumber(ARGV[1]) - 1 do redis.call('HDEL', KEYS[2], i .. ':' .. ARGV[1]) end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return ARGV[2]
`,
)

/**
 * Close 4011 (sharding required) on a shard of `from` shards: reads the recommendation again
 * and moves the deployment to `max(recommended, from + 1)` shards in Redis, unless another
 * candidate already moved it. Every node follows the count it reads (see ShardCandidates); the
 * fence in every write script refuses the old count's leaders from then on. Returns the count
 * every node now runs. Redis failures are retried with backoff until `signal` aborts.
 */
export async function reshardCount(
  request: Omit<ShardCountRequest, 'explicit'>,
  from: number,
): Promise<number> {
  const to = Math.max(await recommendedCount(request), from + 1)
  const keys = guildKeys(request.prefix)
  const old = Array.from({ length: from }, (_, id) =>
    gatewayKeys(request.prefix, { id, count: from }),
  )
  const stored = await retryingRedis(request, 'store the new shard count', () =>
    RESHARD.run(
      request.redis,
      [keys.shardCount, keys.shards, ...old.flatMap((k) => [k.session, k.handover])],
      [from, to],
    ),
  )
  return Number(stored)
}

/** The shard count stored in Redis, or null. */
export async function readShardCount(redis: Redis, prefix: string): Promise<number | null> {
  const stored = Number(await redis.get(guildKeys(prefix).shardCount))
  return Number.isSafeInteger(stored) && stored > 0 ? stored : null
}
