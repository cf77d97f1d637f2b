/** Stable codes of every failure the presence layer raises. */
export type PresenceErrorCode =
  | 'BUS_CLOSED'
  | 'BUS_UNAVAILABLE'
  | 'BAD_FRAME'
  | 'INVALID_OPTIONS'
  | 'SERVICE_STOPPED'

/** The presence layer's one error class; `code` says what went wrong. */
export class PresenceError extends Error {
  override name: string
  constructor(
    readonly code: PresenceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = `PresenceError[${code}]`
  }
}
