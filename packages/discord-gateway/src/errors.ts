/** Stable codes of every error this package raises. */
export type GatewayErrorCode =
  | 'INVALID_CONFIG'
  | 'FATAL_CLOSE'
  | 'IDENTIFY_BUDGET_EXHAUSTED'
  | 'READY_TIMEOUT'
  | 'STOPPED'
  | 'SESSION_STORE'
  | 'GATEWAY_INFO'

/** The one error class of @repo/discord-gateway: a readable message plus a stable `code`. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode

  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = `GatewayError[${code}]`
    this.code = code
  }
}
