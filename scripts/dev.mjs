// `pnpm dev`: the web app in development mode. Without DISCORD_BOT_TOKEN it starts
// the bundled Discord emulator first, registers the app's OAuth2 redirect with it (as a person
// does in the Developer Portal) and points the app at it. The server's JSON log lines are
// shown human-readable (pino-pretty); production (`pnpm start`) keeps JSON.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import pinoPretty from 'pino-pretty'
import { loadDotEnv, root, startLocalDiscord, useLocalDiscord } from './lib/local-discord.mjs'

loadDotEnv()
const env = { ...process.env }
env.DATA_DIR ??= '.data'
let emulator
if (!env.DISCORD_BOT_TOKEN && !env.DISCORD_BOT_TOKEN_FILE) {
  const local = await startLocalDiscord(env)
  emulator = local.emulator
  useLocalDiscord(env, local.env)
  console.log(`Discord emulator: ${emulator.webUrl}/_emulator (REST ${emulator.restBase})`)
  console.log('Setup check against it, from another terminal: pnpm doctor --emulator')
}
const port = env.PORT ?? '3000'
console.log(`Table Voice (dev): http://${env.HOST ?? '127.0.0.1'}:${port}`)

const tty = process.stdout.isTTY === true
const vite = spawn(
  join(root, 'apps/web/node_modules/.bin/vite'),
  ['dev', '--host', env.HOST ?? '127.0.0.1'],
  {
    cwd: join(root, 'apps/web'),
    // Vite's own output keeps its colours through the pipe.
    env: tty ? { FORCE_COLOR: '1', ...env } : env,
    stdio: ['inherit', 'pipe', 'inherit'],
  },
)
// Lines that are not JSON (Vite's) pass through unchanged.
vite.stdout.pipe(
  pinoPretty({
    colorize: tty,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,component',
    messageFormat: '{if component}{component}: {end}{msg}',
  }),
)
const shutdown = async (signal) => {
  vite.kill(signal)
  await emulator?.close()
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))
vite.on('exit', async (code) => {
  await emulator?.close()
  process.exit(code ?? 0)
})
