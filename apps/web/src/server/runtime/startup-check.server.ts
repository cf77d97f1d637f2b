import { checkDiscord, GUILD_CHECK_IDS, guildCheckOf } from '../setup-checks.server'
import type { Runtime } from './runtime'

/**
 * The start-up check: the Discord part of `pnpm doctor` (a handful of REST reads, once). What
 * fails is logged as an alert and kept for /api/health; a check Discord did not answer is only
 * logged. It never stops the start: the pages say what is wrong.
 */
export async function checkSetup(runtime: Runtime): Promise<void> {
  const { logger } = runtime
  try {
    const [report, ...others] = await Promise.all(
      runtime.config.DISCORD_GUILD_IDS.map((guildId) =>
        checkDiscord(runtime.config, runtime.rest, guildId),
      ),
    )
    if (!report) return
    runtime.config.DISCORD_GUILD_IDS.forEach((guildId, i) => {
      const checked = i === 0 ? report : others[i - 1]
      if (checked) runtime.guilds.setChecked(guildId, guildCheckOf(checked))
    })
    runtime.missingPermissions = report.missingPermissions
    runtime.failingChecks = report.checks.filter((check) => check.status === 'fail')
    // The other pool servers' own checks (their messages name them): /api/health lists them per
    // guild, and a server that fails them takes no rooms while the others do.
    const poolFailures = others.flatMap((other) =>
      other.checks.filter((c) => GUILD_CHECK_IDS.includes(c.id) && c.status === 'fail'),
    )
    if (poolFailures.length > 0) {
      logger.error(
        {
          alert: true,
          failing: poolFailures.map(({ id, message, fix }) => ({ id, message, fix })),
        },
        'a pool server is not set up for rooms: run pnpm doctor (docs/operations.md#a-pool-of-servers)',
      )
    }
    if (runtime.failingChecks.length > 0) {
      logger.error(
        {
          alert: true,
          failing: runtime.failingChecks.map(({ id, message, fix }) => ({ id, message, fix })),
          missing: runtime.missingPermissions,
          installUrl: report.installUrl,
        },
        'the Discord setup is incomplete: run pnpm doctor (docs/discord-setup.md)',
      )
    }
    const unanswered = report.checks.filter((check) => check.status === 'error')
    if (unanswered.length > 0) {
      logger.warn(
        { checks: unanswered.map(({ id, message }) => ({ id, message })) },
        'could not check part of the Discord setup',
      )
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not check the Discord setup')
  }
}
