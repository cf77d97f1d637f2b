// `pnpm start`: the production server (one Node process) from apps/web/.output.
// It never falls back to the emulator silently: without Discord credentials it
// stops, unless DISCORD_EMULATOR=1 asks for the bundled emulator explicitly.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadDotEnv, root, startLocalDiscord, useLocalDiscord } from './lib/local-discord.mjs'
import { serverNodeFlags } from './lib/server-flags.mjs'

loadDotEnv()
const env = { NODE_ENV: 'production', ...process.env }
env.DATA_DIR ??= '.data'
env.HOST ??= '127.0.0.1'
const server = join(root, 'apps/web/.output/server/index.mjs')
if (!existsSync(server)) {
  console.error('No production build found. Run `pnpm build` first.')
  process.exit(1)
}

let emulator
if (!env.DISCORD_BOT_TOKEN && !env.DISCORD_BOT_TOKEN_FILE) {
  if (env.DISCORD_EMULATOR !== '1') {
    console.error(
      'DISCORD_BOT_TOKEN (or DISCORD_BOT_TOKEN_FILE) is not set. Configure Discord in .env (see .env.example), or set\n' +
        'DISCORD_EMULATOR=1 to run against the bundled Discord emulator instead.',
    )
    process.exit(1)
  }
  const local = await startLocalDiscord(env)
  emulator = local.emulator
  useLocalDiscord(env, local.env)
  console.log(`Discord emulator: ${emulator.webUrl}/_emulator (REST ${emulator.restBase})`)
}

const child = spawn(process.execPath, [...serverNodeFlags(), server], {
  cwd: join(root, 'apps/web'),
  env,
  stdio: 'inherit',
})
const forward = (signal) => child.kill(signal)
process.on('SIGINT', () => forward('SIGINT'))
process.on('SIGTERM', () => forward('SIGTERM'))
child.on('exit', async (code) => {
  await emulator?.close()
  process.exit(code ?? 0)
})
