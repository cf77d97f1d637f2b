import {
  APP_ERRORS,
  type AppErrorBody,
  type AppErrorCode,
} from '@repo/discord-integration/contracts'

/**
 * The web app's one typed error. `code` is a stable key of APP_ERRORS; the
 * message shown to browsers always comes from that table, never from Discord.
 */
export class AppError extends Error {
  override name = 'AppError'
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
  return error instanceof AppError && (codes.length === 0 || codes.includes(error.code))
}

/** Maps anything thrown to an AppError; unknown errors become INTERNAL. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  return new AppError('INTERNAL', { cause: error })
}
