import { createServer } from 'node:http'
import { pino } from 'pino'
import { parseWorkerEnv, type WorkerEnv } from '../config'
import { createGatewayCandidate } from './gateway-candidate'
import { createClusterRedis } from './redis-connections'

/**
 * `discord-gateway-worker`: one gateway candidate in its own process (the "gateway workers"
 * layout). It competes for the shard's lease on Redis; while it leads it runs the gateway
 * connection and writes the guild's voice stream; the web nodes only read. Run one or more.
 * SIGTERM/SIGINT: close with 4200, flush, release the lease (the next candidate resumes at once).
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
const candidate = createGatewayCandidate({
  token: env.token,
  guildId: env.guildId,
  apiUrl: env.apiUrl,
  intents: env.intents,
  redis,
  prefix: env.prefix,
  leaseMs: env.leaseMs,
  streamMaxLen: env.streamMaxLen,
  logger,
  ...(env.holderId ? { holderId: env.holderId } : {}),
})

const health = env.health
  ? createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/health') {
        response.writeHead(404).end()
        return
      }
      const status = candidate.status()
      const ok = status.state !== 'stopped' && status.alert === null
      response
        .writeHead(ok ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ status: ok ? 'ok' : 'degraded', pid: process.pid, ...status }))
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

candidate.start()
logger.info(
  { holderId: candidate.holderId, pid: process.pid, leaseMs: env.leaseMs, prefix: env.prefix },
  'gateway worker started',
)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'stopping: the session is left resumable for the next leader')
  await candidate.stop()
  health?.close()
  redis.disconnect()
  logger.info('gateway worker stopped')
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
