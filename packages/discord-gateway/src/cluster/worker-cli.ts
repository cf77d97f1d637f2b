import { createServer } from 'node:http'
import { pino } from 'pino'
import { parseWorkerEnv, type WorkerEnv } from '../config'
import { createClusterRedis } from './redis-connections'
import { ShardCandidates } from './shard-candidates'
import { workerHealth } from './worker-health'

/**
 * `discord-gateway-worker`: gateway candidates in their own process (the "gateway workers"
 * layout), one per shard it runs (GATEWAY_SHARD_IDS, default every shard of the count settled in
 * Redis, following a reshard unless DISCORD_SHARD_COUNT pins it). Each competes for its shard's lease; while it leads it runs that shard's connection and
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
const candidates = new ShardCandidates({
  redis,
  prefix: env.prefix,
  leaseMs: env.leaseMs,
  explicitCount: env.shardCount,
  shardIds: env.shardIds,
  holderId: env.holderId,
  candidate: {
    token: env.token,
    apiUrl: env.apiUrl,
    intents: env.intents,
    streamMaxLen: env.streamMaxLen,
  },
  logger,
})

/** How long a move to another shard count may take before the health says degraded. */
const reshardGraceMs = Math.max(30_000, 2 * env.leaseMs)
const health = env.health
  ? createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/health') {
        response.writeHead(404).end()
        return
      }
      const { httpStatus, body } = workerHealth({
        pid: process.pid,
        shardCount: candidates.count,
        reshards: candidates.reshards,
        resharding: candidates.resharding,
        candidates: candidates.list(),
        now: Date.now(),
        reshardGraceMs,
      })
      response
        .writeHead(httpStatus, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body))
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

await candidates.start()
logger.info(
  {
    holderIds: candidates.list().map((c) => c.holderId),
    shardCount: candidates.count,
    shards: candidates.list().map((c) => c.shard.id),
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
  logger.info({ signal }, 'stopping: the sessions are left resumable for the next leaders')
  await candidates.stop()
  health?.close()
  redis.disconnect()
  logger.info('gateway worker stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
