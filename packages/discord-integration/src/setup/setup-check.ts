/**
 * The outcome of one setup check:
 * - `ok`: it holds;
 * - `fail`: it does not, and a person must change something (the `fix` says what);
 * - `error`: it could not be told (Discord or the host did not answer as expected);
 * - `skipped`: not run, because a check it needs failed first, or on request.
 */
export type SetupCheckStatus = 'ok' | 'fail' | 'error' | 'skipped'

/** One line of the setup doctor's report. Never carries a secret. */
export interface SetupCheck {
  /** Stable id (`bot-token`, `redirect`, ...), for `--json`, `--skip` and /api/health. */
  id: string
  /** What is checked, for people. */
  title: string
  status: SetupCheckStatus
  /** What was found. */
  message: string
  /** What to do about it (with `fail` and `error`). */
  fix?: string
}

/** Builds a check result. */
export function setupCheck(
  id: string,
  title: string,
  status: SetupCheckStatus,
  message: string,
  fix?: string,
): SetupCheck {
  return fix === undefined ? { id, title, status, message } : { id, title, status, message, fix }
}

/** Whether every check holds (skipped ones do not count against it). */
export function allChecksHold(checks: readonly SetupCheck[]): boolean {
  return checks.every((check) => check.status === 'ok' || check.status === 'skipped')
}
