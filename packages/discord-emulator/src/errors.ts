/** Every failure the emulator itself raises (not the Discord errors it serves to clients). */
export type EmulatorErrorCode =
  | 'INVALID_WORLD'
  | 'UNKNOWN_USER'
  | 'UNKNOWN_CHANNEL'
  | 'UNKNOWN_GUILD'
  | 'INVALID_INPUT'
  | 'NOT_RUNNING'

/** Base error of the package: a readonly string-literal `code` plus a message. */
export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode
  constructor(code: EmulatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
  override get name(): string {
    return `EmulatorError[${this.code}]`
  }
}
