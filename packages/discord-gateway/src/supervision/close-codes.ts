/** What the supervisor does after a gateway close code. */
export type CloseAction = 'resume' | 'reidentify' | 'fatal' | 'internal'

/**
 * The supervision policy per close code (Discord Gateway v10). Codes not listed (1006 and other abnormal
 * closures) resume. `internal` is @discordjs/ws's own "closing in order to resume" (4200).
 */
export const CLOSE_POLICY = {
  1000: 'reidentify',
  1001: 'reidentify',
  4000: 'resume',
  4001: 'resume',
  4002: 'resume',
  4003: 'reidentify',
  4004: 'fatal',
  4005: 'reidentify',
  4007: 'reidentify',
  4008: 'reidentify',
  4009: 'resume',
  4010: 'fatal',
  4011: 'fatal',
  4012: 'fatal',
  4013: 'fatal',
  4014: 'fatal',
  4200: 'internal',
} as const satisfies Record<number, CloseAction>

const FATAL_REASONS: Record<number, string> = {
  4004: 'authentication failed: the bot token is invalid',
  4010: 'invalid shard',
  4011: 'sharding required',
  4012: 'invalid API version',
  4013: 'invalid intents',
  4014: 'disallowed intents: enable the privileged intent (GUILD_MEMBERS) in the Developer Portal or turn it off',
}

/** The policy for a close code. */
export function closeAction(code: number): CloseAction {
  return (CLOSE_POLICY as Record<number, CloseAction>)[code] ?? 'resume'
}

/** An operator-readable reason for a fatal close code. */
export function fatalReason(code: number): string {
  return `gateway closed with ${code}: ${FATAL_REASONS[code] ?? 'unrecoverable'}`
}
