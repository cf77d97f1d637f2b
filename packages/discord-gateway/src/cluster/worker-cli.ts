import { createServer } from 'node:http'
import { pino } from 'pino'
import { parseWorkerEnv, type WorkerEnv } from '../config'
import { spreadDefer, startStaggered } from './candidate-start'
import type { GatewayCandidate } from './gateway-candidate'
import { createGatewayCandidate } from './gateway-candidate'
import { createClusterRedis } from './redis-connections'
import { settleShardCount } from './shard-count'

/**
 * `discord-gateway-worker`: gateway candidates in their own process (the "gateway workers"
 * layout), one per shard it runs (GATEWAY_SHARD_IDS, default every shard of the count settled in
 * Redis). Each competes for its shard's lease; while it leads it runs that shard's connection and
 * writes its guilds' voice streams and the guild list; the web nodes only read. Run one or more.
 * SIGTERM/SIGINT: close with 4200, flush, release the leases (the next candidates resume at once).
 */
let env: WorkerEnv
try {
  env = parseWorkerEnv(process.env)
} catch (error) {
  pino({ name: 'discord-gateway-worker' }).fatal((error as Error).message)
  process.exit(1)
}

const logger = pino({ name: 'discord-gateway-worker', level: env.logLevel })
const redis = createClusterRedis(env.redisUrl, 'commands', {
  name: 'discord-gateway-worker',
  redisOptions: env.redisOptions,
  logger,
})
const halt = new AbortController()
let candidates: GatewayCandidate[] = []

const health = env.health
  ? createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/health') {
        response.writeHead(404).end()
        return
      }
      const shards = candidates.map((c) => ({ shard: c.shard, ...c.status() }))
      const ok =
        candidates.length > 0 && shards.every((s) => s.state !== 'stopped' && s.alert === null)
      const first = shards[0]
      response
        .writeHead(ok ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(
          JSON.stringify({
            status: ok ? 'ok' : 'degraded',
            pid: process.pid,
            // shard 0's (or the first shard's) candidate, as the one-shard worker showed it
            ...(first ?? {}),
            shards,
          }),
        )
    })
  : null
if (health && env.health) {
  const { port, host } = env.health
  await new Promise<void>((resolve) => health.listen(port, host, resolve))
  const address = health.address()
  logger.info(
    { healthPort: typeof address === 'object' && address ? address.port : port },
    'health endpoint listening',
  )
}

const count = await settleShardCount({
  redis,
  prefix: env.prefix,
  explicit: env.shardCount,
  token: env.token,
  apiUrl: env.apiUrl,
  signal: halt.signal,
  logger,
}).catch((error: unknown) => {
  logger.fatal({ err: error }, 'could not settle the shard count')
  process.exit(1)
})
const ids = (env.shardIds ?? Array.from({ length: count }, (_, id) => id)).filter(
  (id) => id < count,
)
candidates = ids.map((id) =>
  createGatewayCandidate({
    token: env.token,
    apiUrl: env.apiUrl,
    intents: env.intents,
    redis,
    prefix: env.prefix,
    leaseMs: env.leaseMs,
    streamMaxLen: env.streamMaxLen,
    shard: { id, count },
    logger,
    deferPolls: () => spreadDefer(candidates, { id, count }),
    ...(env.holderId ? { holderId: ids.length > 1 ? `${env.holderId}#${id}` : env.holderId } : {}),
  }),
)
await startStaggered(candidates, halt.signal)
logger.info(
  {
    holderIds: candidates.map((c) => c.holderId),
    shardCount: count,
    shards: ids,
    pid: process.pid,
    leaseMs: env.leaseMs,
    prefix: env.prefix,
  },
  'gateway worker started',
)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  halt.abort()
  logger.info({ signal }, 'stopping: the sessions are left resumable for the next leaders')
  await Promise.all(candidates.map((c) => c.stop()))
  health?.close()
  redis.disconnect()
  logger.info('gateway worker stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
