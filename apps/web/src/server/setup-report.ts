import type { SetupCheck } from '@repo/discord-integration'

/** What `pnpm doctor` found, as `--json` prints it. Holds no secret. */
export interface DoctorReport {
  /** True when every check holds (exit code 0). */
  ok: boolean
  checks: SetupCheck[]
  /** What was checked: no secrets, only where. */
  target: {
    discordApi: string | null
    guildId: string | null
    publicUrl: string | null
  }
  /** The bot's install link with the exact permission integer; null without a valid config. */
  install: { url: string; permissions: string; names: string[] } | null
  /** Where the step-by-step guide is. */
  guide: string
}

const GUIDE = 'docs/discord-setup.md'

/** The report of a run. */
export function doctorReport(
  checks: SetupCheck[],
  target: DoctorReport['target'],
  install: DoctorReport['install'],
): DoctorReport {
  const ok = checks.every((check) => check.status === 'ok' || check.status === 'skipped')
  return { ok, checks, target, install, guide: GUIDE }
}

const STATUS_WORD: Record<SetupCheck['status'], string> = {
  ok: 'ok',
  fail: 'FAIL',
  error: 'ERROR',
  skipped: 'skip',
}

/**
 * The report for people: a header saying what was checked, one line per check (status, what,
 * what was found and, when it fails, the fix), the install link, and a verdict.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = ['Table Voice setup doctor']
  const { discordApi, guildId, publicUrl } = report.target
  if (discordApi) lines.push(`  Discord API  ${discordApi}`)
  if (guildId) lines.push(`  server       ${guildId} (DISCORD_GUILD_ID)`)
  if (publicUrl) lines.push(`  PUBLIC_URL   ${publicUrl}`)
  lines.push('')
  const width = Math.max(...report.checks.map((check) => check.title.length))
  for (const check of report.checks) {
    const fix = check.fix && check.status !== 'ok' ? ` → Fix: ${check.fix}` : ''
    lines.push(
      `${STATUS_WORD[check.status].padEnd(5)} ${check.title.padEnd(width)}  ${check.message}${fix}`,
    )
  }
  if (report.install) {
    lines.push(
      '',
      `Install link (adds the bot with exactly what rooms need: ${report.install.names.join(', ')}; permissions=${report.install.permissions}):`,
      `  ${report.install.url}`,
    )
  }
  const bad = report.checks.filter((check) => check.status === 'fail' || check.status === 'error')
  lines.push(
    '',
    report.ok
      ? `All ${report.checks.length - skippedCount(report)} checks hold.${skippedNote(report)}`
      : `${bad.length} of ${report.checks.length} checks do not hold: see the fixes above and ${report.guide}.`,
  )
  return `${lines.join('\n')}\n`
}

function skippedCount(report: DoctorReport): number {
  return report.checks.filter((check) => check.status === 'skipped').length
}

function skippedNote(report: DoctorReport): string {
  const skipped = skippedCount(report)
  return skipped ? ` (${skipped} skipped)` : ''
}
