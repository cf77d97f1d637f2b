// `pnpm doctor`: checks the configuration `pnpm start` would run with (the environment, .env and
// NAME_FILE secrets) against Discord and prints what is wrong and how to fix it, one line per
// check; exit code 0 only when everything holds. `--emulator [url]` checks the Discord emulator of
// a running `pnpm dev` instead of .env's Discord settings. The checks themselves are TypeScript
// (apps/web/src/server/setup-doctor.ts), run from source: no build needed.
import { loadDotEnv, useLocalDiscord } from './lib/local-discord.mjs'

const argv = process.argv.slice(2)
const at = argv.findIndex((arg) => arg === '--emulator' || arg.startsWith('--emulator='))
let emulatorUrl
if (at >= 0) {
  const [flag] = argv.splice(at, 1)
  const given = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : argv[at]
  if (!flag.includes('=') && given && !given.startsWith('-')) argv.splice(at, 1)
  emulatorUrl = given && !given.startsWith('-') ? given : ''
}

loadDotEnv()
const env = { ...process.env }
env.DATA_DIR ??= '.data'

const { register } = await import('tsx/esm/api')
register()

if (emulatorUrl !== undefined) {
  const base = (emulatorUrl || `http://127.0.0.1:${env.EMULATOR_PORT || 8787}`).replace(/\/$/, '')
  const state = await fetch(`${base}/_emulator/state`, { signal: AbortSignal.timeout(5000) }).then(
    (response) => (response.ok ? response.json() : null),
    () => null,
  )
  if (!state) {
    console.error(
      `pnpm doctor --emulator: no Discord emulator answers at ${base}. Start \`pnpm dev\` first, or give the emulator's URL: --emulator http://127.0.0.1:PORT`,
    )
    process.exit(1)
  }
  const { emulatorEnv } = await import('../packages/discord-emulator/src/app-env.ts')
  // The same settings `pnpm dev` hands the app for its emulator.
  useLocalDiscord(env, emulatorEnv(state))
}

const { runDoctor } = await import('../apps/web/src/server/setup-doctor.ts')
const code = await runDoctor({ env, argv, write: (text) => process.stdout.write(text) })
// Exit once the report is flushed, without waiting for idle keep-alive sockets.
process.stdout.write('', () => process.exit(code))
