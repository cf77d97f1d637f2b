import { REST } from '@discordjs/rest'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { DEFAULT_TIMINGS } from '../gateway/connection-options'
import { fetchGatewayInfoWithBackoff } from '../gateway/gateway-info'
import type { BackoffOptions } from '../supervision/backoff'
import { fullJitterDelay } from '../supervision/backoff'
import type { Clock } from '../supervision/clock'
import { systemClock } from '../supervision/clock'
import { guildKeys } from './keys'

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
export async function settleShardCount(request: ShardCountRequest): Promise<number> {
  for (let failures = 1; ; failures++) {
    try {
      return await settleOnce(request)
    } catch (error) {
      request.signal.throwIfAborted()
      const delayMs = fullJitterDelay(
        failures,
        { ...DEFAULT_TIMINGS.backoff, ...request.backoff },
        request.random ?? Math.random,
      )
      request.logger.warn({ err: error, delayMs }, 'could not settle the shard count; retrying')
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
  const recommended = Math.max(1, info.shards)
  await request.redis.set(key, String(recommended), 'NX')
  return (await readShardCount(request.redis, request.prefix)) ?? recommended
}

/** The shard count stored in Redis, or null. */
export async function readShardCount(redis: Redis, prefix: string): Promise<number | null> {
  const stored = Number(await redis.get(guildKeys(prefix).shardCount))
  return Number.isSafeInteger(stored) && stored > 0 ? stored : null
}
