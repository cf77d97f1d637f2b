import { APP_ERRORS, type AppErrorBody, type AppErrorCode } from './contracts/errors'

/**
 * Marks AppErrors with a symbol from the global registry: the production build
 * bundles this module more than once (the runtime the Nitro plugin boots vs the
 * server-function chunks), so `instanceof` cannot recognise an error thrown by
 * the other copy. The brand can.
 */
const APP_ERROR_BRAND: unique symbol = Symbol.for('table-voice.AppError') as never

/**
 * The app's one typed error (server side). `code` is a stable key of APP_ERRORS; the
 * message shown to browsers always comes from that table, never from Discord. Discord
 * failures become AppErrors in the REST layer (`toDiscordFailure`), so every layer above
 * sees one error model.
 */
export class AppError extends Error {
  override name = 'AppError'
  readonly [APP_ERROR_BRAND] = true
  readonly status: number
  constructor(
    readonly code: AppErrorCode,
    options: { cause?: unknown; retryAfter?: number; detail?: string } = {},
  ) {
    super(options.detail ?? APP_ERRORS[code].message, { cause: options.cause })
    this.status = APP_ERRORS[code].status
    this.retryAfter = options.retryAfter
  }
  readonly retryAfter: number | undefined

  /** The browser-safe body: code, table message and retry hint only. */
  toBody(): AppErrorBody {
    return {
      code: this.code,
      message: APP_ERRORS[this.code].message,
      ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
    }
  }
}

/** True when `error` is an AppError with one of `codes` (any code when none given). */
export function isAppError(error: unknown, ...codes: AppErrorCode[]): error is AppError {
  return isBranded(error) && (codes.length === 0 || codes.includes(error.code))
}

/** Maps anything thrown to an AppError; unknown errors become INTERNAL. */
export function toAppError(error: unknown): AppError {
  if (isBranded(error)) return error
  return new AppError('INTERNAL', { cause: error })
}

function isBranded(error: unknown): error is AppError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [APP_ERROR_BRAND]?: unknown })[APP_ERROR_BRAND] === true
  )
}
