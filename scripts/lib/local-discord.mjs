// Shared by `pnpm dev` and `pnpm start`: loads .env and, when asked, starts the
// bundled Discord emulator in this process and returns the environment that
// points the app at it.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { register } from 'tsx/esm/api'

export const root = resolve(import.meta.dirname, '../..')

/** Loads the repository's .env (if any) without overriding variables already set. */
export function loadDotEnv() {
  const file = join(root, '.env')
  if (existsSync(file)) process.loadEnvFile(file)
}

/** A stable per-checkout secret for local runs, so sessions survive restarts. */
export function localSessionSecret(dataDir) {
  const dir = resolve(root, 'apps/web', dataDir)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'local-session-secret')
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 })
  return readFileSync(file, 'utf8').trim()
}

/** Starts the emulator on EMULATOR_PORT (default 8787) and returns it with the app's env for it. */
export async function startLocalDiscord() {
  register()
  const { emulatorEnv, startEmulator } = await import(
    '../../packages/discord-emulator/src/index.ts'
  )
  const port = Number(process.env.EMULATOR_PORT ?? 8787)
  const emulator = await startEmulator({ port, host: '127.0.0.1', quiet: true })
  return { emulator, env: emulatorEnv(emulator) }
}
