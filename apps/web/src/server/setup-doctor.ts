import {
  createDiscordRest,
  type DiscordSetupReport,
  permissionLabel,
  type SetupCheck,
  setupCheck,
} from '@repo/discord-integration'
import { REQUIRED_BOT_PERMISSIONS } from '../features/rooms/discord-rooms.server'
import { ConfigError, parseConfig, SECRET_FILE_VARIABLES, type ServerConfig } from './config.server'
import {
  checkDiscord,
  checkPublicUrl,
  checkRedis,
  GUILD_CHECK_IDS,
  SETUP_CHECK_IDS,
  SETUP_CHECK_TITLES,
} from './setup-checks.server'
import { type DoctorReport, doctorReport, formatDoctorReport } from './setup-report'

/** What `pnpm doctor` runs with (handed in by scripts/doctor.mjs, or by a test). */
export interface DoctorIo {
  /** The environment, `.env` already loaded into it (as `pnpm start` does). */
  env: Record<string, string | undefined>
  /** The command-line arguments after `pnpm doctor`. */
  argv: readonly string[]
  /** Where the report goes (stdout). */
  write(text: string): void
  /** Reads `NAME_FILE` secrets. @defaultValue fs.readFileSync */
  readFile?: (path: string) => string
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch
  /** Time limit of each network check, in ms. @defaultValue 5000 */
  timeoutMs?: number
}

const SKIPPABLE = SETUP_CHECK_IDS.filter((id) => id !== 'config')

export const DOCTOR_USAGE = `Usage: pnpm doctor [--json] [--skip <check>[,<check>...]] [--emulator [<url>]]

Checks the configuration the server would start with (environment, .env, *_FILE secrets) against
Discord, and says what is wrong and how to fix it, one line per check. Exit code 0 only when every
check holds; 1 when one does not; 2 for a usage error.

  --json       the report as JSON (for scripts)
  --skip       leave checks out, e.g. --skip public-url before the server's first start
               (checks: ${SETUP_CHECK_IDS.join(', ')})
  --emulator   check the Discord emulator of a running \`pnpm dev\` (default
               http://127.0.0.1:$EMULATOR_PORT, port 8787) instead of .env's Discord settings

Step by step: docs/discord-setup.md
`

/** Parsed command line, or the reason it is not valid. */
type DoctorArgs = { json: boolean; help: boolean; skip: Set<string> } | { error: string }

function parseArgs(argv: readonly string[]): DoctorArgs {
  const skip = new Set<string>()
  let json = false
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--json') json = true
    else if (arg === '--help' || arg === '-h') help = true
    else if (arg === '--skip' || arg.startsWith('--skip=')) {
      const value = arg === '--skip' ? argv[++i] : arg.slice('--skip='.length)
      if (!value) return { error: '--skip needs the id of a check' }
      for (const id of value.split(',').filter(Boolean)) {
        if (!SKIPPABLE.includes(id)) {
          return { error: `--skip ${id}: no such check (checks: ${SKIPPABLE.join(', ')})` }
        }
        skip.add(id)
      }
    } else return { error: `unknown argument ${arg}` }
  }
  return { json, help, skip }
}

/**
 * `pnpm doctor`: parses the configuration as the server does (config.server.ts), runs every setup
 * check (setup-checks.server.ts) and writes the report. Returns the exit code.
 */
export async function runDoctor(io: DoctorIo): Promise<number> {
  const args = parseArgs(io.argv)
  if ('error' in args) {
    io.write(`pnpm doctor: ${args.error}\n\n${DOCTOR_USAGE}`)
    return 2
  }
  if (args.help) {
    io.write(DOCTOR_USAGE)
    return 0
  }
  const report = await diagnose(io, args.skip)
  io.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report))
  return report.ok ? 0 : 1
}

async function diagnose(io: DoctorIo, skip: Set<string>): Promise<DoctorReport> {
  let config: ServerConfig
  try {
    config = parseConfig(io.env, io.readFile)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const needs = (id: string) =>
      setupCheck(id, titleOf(id), 'skipped', 'needs a valid configuration')
    return doctorReport(
      [configFailure(error, io.env), ...SKIPPABLE.map(needs)],
      { discordApi: null, guildId: null, publicUrl: null },
      null,
    )
  }
  const timeoutMs = io.timeoutMs ?? 5000
  const rest = createDiscordRest({
    api: config.DISCORD_API_URL,
    token: config.DISCORD_BOT_TOKEN,
    timeout: timeoutMs,
  })
  const onRequest = (id: string) => (skip.has(id) ? skippedOnRequest(id) : null)
  try {
    const [discord, redis, publicUrl, ...pool] = await Promise.all([
      checkDiscord(config, rest),
      onRequest('redis') ?? checkRedis(config, timeoutMs),
      onRequest('public-url') ?? checkPublicUrl(config.PUBLIC_URL, timeoutMs, io.fetch),
      // The other pool servers (DISCORD_GUILD_IDS): their own checks, the application's are shared.
      ...config.DISCORD_GUILD_IDS.slice(1).map(async (guildId) => ({
        guildId,
        report: await checkDiscord(config, rest, guildId),
      })),
    ])
    const poolChecks = pool.flatMap(({ guildId, report }) =>
      report.checks
        .filter((check) => GUILD_CHECK_IDS.includes(check.id))
        .map((check) => ({ ...check, title: `${check.title} (${guildId})` })),
    )
    const checks = [
      configSuccess(config, io.env),
      ...discord.checks.map((check) => onRequest(check.id) ?? check),
      ...poolChecks.map((check) => onRequest(check.id) ?? check),
      redis,
      publicUrl,
    ]
    return doctorReport(
      checks,
      {
        discordApi: config.DISCORD_API_URL,
        guildId: config.DISCORD_GUILD_ID,
        publicUrl: config.PUBLIC_URL,
      },
      install(discord),
    )
  } finally {
    rest.clearHashSweeper()
    rest.clearHandlerSweeper()
  }
}

function install(discord: DiscordSetupReport): DoctorReport['install'] {
  return {
    url: discord.installUrl,
    permissions: discord.permissions,
    names: REQUIRED_BOT_PERMISSIONS.map(permissionLabel),
  }
}

function skippedOnRequest(id: string): SetupCheck {
  return setupCheck(id, titleOf(id), 'skipped', `skipped on request (--skip ${id})`)
}

function titleOf(id: string): string {
  return (SETUP_CHECK_TITLES as Record<string, string | undefined>)[id] ?? id
}

function configSuccess(config: ServerConfig, env: DoctorIo['env']): SetupCheck {
  const fromFiles = SECRET_FILE_VARIABLES.filter((name) => env[`${name}_FILE`])
  const notes = [
    fromFiles.length ? `secrets read from ${fromFiles.map((n) => `${n}_FILE`).join(', ')}` : '',
    env.PUBLIC_URL ? '' : `PUBLIC_URL is not set, so ${config.PUBLIC_URL} is assumed`,
  ].filter(Boolean)
  return setupCheck(
    'config',
    titleOf('config'),
    'ok',
    `valid, as the server would read it${notes.length ? ` (${notes.join('; ')})` : ''}`,
  )
}

function configFailure(error: ConfigError, env: DoctorIo['env']): SetupCheck {
  const noDiscord = !env.DISCORD_BOT_TOKEN && !env.DISCORD_BOT_TOKEN_FILE
  return setupCheck(
    'config',
    titleOf('config'),
    'fail',
    error.problems.join('; '),
    `set these in .env (copy .env.example) or the environment; secrets may come from NAME_FILE files${
      noDiscord
        ? '. No Discord application is configured: docs/discord-setup.md creates one; `pnpm doctor --emulator` checks the emulator of a running `pnpm dev` instead'
        : ''
    }`,
  )
}
