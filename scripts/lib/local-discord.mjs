// Shared by `pnpm dev`, `pnpm start` and `pnpm doctor`: loads .env and, when asked, starts the
// bundled Discord emulator in this process and returns the environment that
// points the app at it.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

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

/** The URL browsers use for the app: PUBLIC_URL, or `http://HOST:PORT` as the server defaults it. */
export function publicUrlOf(env) {
  const url = env.PUBLIC_URL || `http://${env.HOST || '127.0.0.1'}:${env.PORT || '3000'}`
  return url.replace(/\/$/, '')
}

/**
 * Starts the emulator on EMULATOR_PORT (default 8787) and returns it with the app's env for it.
 * Given the app's `env`, it registers the app's OAuth2 redirect (`${PUBLIC_URL}/auth/callback`)
 * with the emulated application, as docs/discord-setup.md has a person do in the Developer
 * Portal, so that `pnpm doctor --emulator` passes against it.
 */
export async function startLocalDiscord(env) {
  // Loaded only here: `pnpm start` runs without node_modules (the container image) unless it is
  // asked for the emulator, which runs from TypeScript source.
  const { register } = await import('tsx/esm/api')
  register()
  const { emulatorEnv, startEmulator } = await import(
    '../../packages/discord-emulator/src/index.ts'
  )
  const port = Number(process.env.EMULATOR_PORT ?? 8787)
  const emulator = await startEmulator({ port, host: '127.0.0.1', quiet: true })
  if (env) emulator.control.setApplication({ redirectUris: [`${publicUrlOf(env)}/auth/callback`] })
  return { emulator, env: emulatorEnv(emulator) }
}

/**
 * Points `env` at the local Discord emulator (`discordEnv` from startLocalDiscord): its values
 * replace any NAME_FILE variable for the same names, a stable local SESSION_SECRET is used
 * unless one is configured (directly or as SESSION_SECRET_FILE), and the Server Members intent is
 * asked for unless configured.
 */
export function useLocalDiscord(env, discordEnv) {
  for (const [name, value] of Object.entries(discordEnv)) {
    env[name] = value
    delete env[`${name}_FILE`]
  }
  if (!env.SESSION_SECRET && !env.SESSION_SECRET_FILE) {
    env.SESSION_SECRET = localSessionSecret(env.DATA_DIR)
  }
  // The emulator's application has the Server Members intent on: names change live on the pages
  // even for players out of voice (GUILD_MEMBER_UPDATE), as with a real bot configured for it.
  env.DISCORD_GUILD_MEMBERS_INTENT ??= '1'
}
