import { GatewayCloseCodes } from 'discord-api-types/v10'

/**
 * The gateway close codes that are fatal to us, with what an operator must do about each.
 *
 * Everything else about close codes is @discordjs/ws's decision, made in `WebSocketShard`'s close
 * handler: resume (4000-4002, 4009, abnormal closes), identify again (1000, 4003, 4005, 4007,
 * 4008, a network error), or no recovery at all for these six (it emits an Error event and stays
 * down). We do not repeat that switch. What we add on top: on these codes the connection stops
 * for good (`state: 'stopped'`) and raises an operator alert with the reason below, because
 * retrying cannot help until someone changes the token, the intents or the code.
 */
const FATAL_CLOSE_REASONS = {
  [GatewayCloseCodes.AuthenticationFailed]: 'authentication failed: the bot token is invalid',
  [GatewayCloseCodes.InvalidShard]: 'invalid shard',
  [GatewayCloseCodes.ShardingRequired]: 'sharding required',
  [GatewayCloseCodes.InvalidAPIVersion]: 'invalid API version',
  [GatewayCloseCodes.InvalidIntents]: 'invalid intents',
  [GatewayCloseCodes.DisallowedIntents]:
    'disallowed intents: enable the privileged intent (GUILD_MEMBERS) in the Developer Portal or turn it off',
} as const satisfies Partial<Record<GatewayCloseCodes, string>>

/** The operator-readable reason when `code` is fatal to us, else null (the library recovers). */
export function fatalCloseReason(code: number): string | null {
  const reason = (FATAL_CLOSE_REASONS as Partial<Record<number, string>>)[code]
  return reason === undefined ? null : `gateway closed with ${code}: ${reason}`
}
