import type { FetchingStrategyOptions, IContextFetchingStrategy } from '@discordjs/ws'
import { DefaultWebSocketManagerOptions, Encoding, WebSocketShard } from '@discordjs/ws'
import type { APIGatewayBotInfo } from 'discord-api-types/v10'
import { GatewayIntentBits } from 'discord-api-types/v10'
import type { ConnectionTimings } from './connection-options'

/** The strategy hooks through which @discordjs/ws asks its owner for sessions and identifies. */
export type ShardHooks = Pick<
  IContextFetchingStrategy,
  'retrieveSessionInfo' | 'updateSessionInfo' | 'waitForIdentify'
>

/** What {@link createShard} needs. */
export interface ShardOptions {
  token: string
  guildMembersIntent: boolean
  timings: ConnectionTimings
  /** Which shard this socket is: IDENTIFY sends `shard: [id, count]`. */
  shard: { readonly id: number; readonly count: number }
  /** The last GET /gateway/bot answer (its URL is where the first socket goes). */
  gatewayInformation(): APIGatewayBotInfo
  hooks: ShardHooks
}

/**
 * One shard (`[id, count]`, IDENTIFY's `shard`): plain JSON without compression, the intents the voice feed needs
 * (GUILDS, GUILD_VOICE_STATES, and GUILD_MEMBERS when it is enabled), and the connection's hooks
 * in place of @discordjs/ws's WebSocketManager, which we do not use.
 */
export function createShard(options: ShardOptions): WebSocketShard {
  const t = options.timings
  const strategyOptions: FetchingStrategyOptions = {
    get gatewayInformation() {
      return options.gatewayInformation()
    },
    shardCount: options.shard.count,
    token: options.token,
    intents:
      GatewayIntentBits.Guilds |
      GatewayIntentBits.GuildVoiceStates |
      (options.guildMembersIntent ? GatewayIntentBits.GuildMembers : 0),
    version: '10',
    encoding: Encoding.JSON,
    compression: null,
    useIdentifyCompression: false,
    handshakeTimeout: t.handshakeTimeoutMs,
    helloTimeout: t.helloTimeoutMs,
    readyTimeout: t.readyTimeoutMs,
    identifyProperties: DefaultWebSocketManagerOptions.identifyProperties,
    initialPresence: null,
    largeThreshold: null,
  }
  return new WebSocketShard({ options: strategyOptions, ...options.hooks }, options.shard.id)
}
