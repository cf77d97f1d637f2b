import { readSecretFiles } from '@repo/file-persistence'
import { pino } from 'pino'
import { z } from 'zod'
import { parseGatewayEnv } from '../config'
import { FileSessionStore } from '../session/file-session-store'
import { MemorySessionStore } from '../session/session-store'
import { sleep } from '../supervision/backoff'
import { createVoiceFeed } from '../voice-feed'
import { createHubFanout, parseHubUrls } from './hub-targets'

/**
 * Runs the gateway as its own process and pushes events to the web servers (hub mode):
 * HUB_URL is one receiver URL or a comma-separated list, one per web node.
 */
const HubEnvSchema = z.object({
  HUB_URL: z.string().transform((value, ctx) => {
    try {
      return parseHubUrls(value)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  }),
  HUB_SECRET: z.string().min(32, 'HUB_SECRET must be at least 32 characters'),
})

const logger = pino({ name: 'discord-gateway-hub', level: process.env.LOG_LEVEL ?? 'info' })
// HUB_SECRET_FILE (a mounted container secret) stands for HUB_SECRET; the gateway's own variables,
// DISCORD_BOT_TOKEN_FILE included, are read by parseGatewayEnv.
const secrets = readSecretFiles(process.env, ['HUB_SECRET'])
const hubEnv = HubEnvSchema.safeParse(secrets.env)
if (secrets.problems.length > 0 || !hubEnv.success) {
  logger.fatal(
    {
      variables: [
        ...secrets.problems.map((p) => p.message),
        ...(hubEnv.error?.issues.map((i) => i.path.join('.')) ?? []).filter(
          (name) => !secrets.problems.some((p) => p.name === name),
        ),
      ],
    },
    'invalid hub environment',
  )
  process.exit(1)
}
const env = parseGatewayEnv(process.env)
const feed = createVoiceFeed({
  token: env.token,
  guildId: env.guildId,
  apiUrl: env.apiUrl,
  intents: env.intents,
  logger,
  sessionStore: env.sessionFile ? new FileSessionStore(env.sessionFile) : new MemorySessionStore(),
})
const sender = createHubFanout(feed, {
  urls: hubEnv.data.HUB_URL,
  secret: hubEnv.data.HUB_SECRET,
  guildId: env.guildId,
  logger,
})
feed.onStatus(({ from, to, status }) => {
  if (to === 'stopped' && status.alert)
    logger.fatal({ from, reason: status.alert.reason }, 'gateway stopped')
})
await feed.start()
sender.start()
logger.info({ nodes: hubEnv.data.HUB_URL.length }, 'delivering voice events to every web node')

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'stopping: persisting the gateway session for a resume')
  await feed.stop()
  await Promise.race([sender.flush(), sleep(5000)])
  await sender.stop()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
