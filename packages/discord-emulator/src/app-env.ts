import type { Emulator } from './emulator-server.ts'

/** The facts about a running emulator that an app needs to reach it. */
export type EmulatorConnection = Pick<
  Emulator,
  'restBase' | 'webUrl' | 'botToken' | 'clientId' | 'clientSecret' | 'guildId'
>

/**
 * The environment variables that point an app at this emulator, in the order `--print-env`
 * prints them. The one mapping from an emulator to the app's Discord settings: `pnpm dev`,
 * `pnpm start`, the CLI, the web app's tests and the benchmark all use it.
 *
 * @example
 * ```ts
 * const emu = await startEmulator()
 * const env = { ...process.env, ...emulatorEnv(emu) } // DISCORD_API_URL=http://127.0.0.1:PORT/api ...
 * ```
 */
export function emulatorEnv(emu: EmulatorConnection): {
  DISCORD_API_URL: string
  DISCORD_WEB_URL: string
  DISCORD_BOT_TOKEN: string
  DISCORD_CLIENT_ID: string
  DISCORD_CLIENT_SECRET: string
  DISCORD_GUILD_ID: string
} {
  return {
    DISCORD_API_URL: emu.restBase,
    DISCORD_WEB_URL: emu.webUrl,
    DISCORD_BOT_TOKEN: emu.botToken,
    DISCORD_CLIENT_ID: emu.clientId,
    DISCORD_CLIENT_SECRET: emu.clientSecret,
    DISCORD_GUILD_ID: emu.guildId,
  }
}
