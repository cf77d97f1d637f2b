import type { RedisOptions } from 'ioredis'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'

/** Options of {@link createClusterRedis}. */
export interface ClusterRedisOptions {
  /** A name in CLIENT LIST (e.g. `tv-gateway`). */
  name?: string
  /** Commands without an answer after this long fail (a partition, not only a refused socket). @defaultValue 5_000 */
  commandTimeoutMs?: number
  /** Extra ioredis options (TLS, Sentinel, password...). */
  redisOptions?: RedisOptions
  /** Connection errors are logged here at debug level (the callers see and retry their failures). */
  logger?: Logger
}

/**
 * An ioredis connection for the feed. Every command either answers or fails: nothing waits in
 * ioredis's offline queue, nothing is re-sent behind our back after a reconnect (the callers
 * retry in order, with their own backoff, and the write script knows a batch it already applied),
 * and a blocking XREAD is bounded by its BLOCK time on the client too. ioredis reconnects the
 * socket by itself.
 *
 * - `commands`: the lease, the fenced writes, the snapshot reads and checks (one per process).
 * - `blocking`: one per stream reader, for XREAD BLOCK only.
 */
export function createClusterRedis(
  url: string,
  role: 'commands' | 'blocking',
  options: ClusterRedisOptions = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    ...(role === 'commands'
      ? { commandTimeout: options.commandTimeoutMs ?? 5_000 }
      : // XREAD BLOCK n: resolves null on the client after n + 2 s if the socket went silent.
        { blockingTimeout: 60_000, blockingTimeoutGrace: 2_000 }),
    ...options.redisOptions,
  })
  redis.on('error', (error: Error) =>
    options.logger?.debug({ err: error }, 'redis connection error'),
  )
  return redis
}

/**
 * Resolves once the connection is ready, or after `timeoutMs`, or when `signal` aborts (the
 * callers retry anyway).
 */
export function connected(redis: Redis, timeoutMs = 2_000, signal?: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  return nextReady(redis, timeoutMs, signal)
}

/**
 * Drops the connection and resolves once its replacement is ready (or after `timeoutMs`, or when
 * `signal` aborts). ioredis reports the old one `ready` until its socket's close event, so the
 * status alone cannot tell.
 */
export function reconnect(redis: Redis, timeoutMs = 2_000, signal?: AbortSignal): Promise<void> {
  const ready = nextReady(redis, timeoutMs, signal)
  redis.disconnect(true)
  return ready
}

function nextReady(redis: Redis, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      redis.off('ready', done)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    redis.once('ready', done)
    signal?.addEventListener('abort', done, { once: true })
  })
}
