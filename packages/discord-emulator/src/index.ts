/**
 * @repo/discord-emulator: a faithful local Discord (Gateway v10, REST v10, OAuth2) for
 * development and tests. Point @discordjs/rest's `api` option at `emulator.restBase`.
 */
export { type EmulatorConnection, emulatorEnv } from './app-env.ts'
export type {
  EmulatorControl,
  EmulatorState,
  EmulatorStats,
  ShardStats,
} from './control/control.ts'
export type { GuildControl, GuildState, ShardingState } from './control/guild-control.ts'
export type { ApplicationSetup, SetupControl } from './control/setup-control.ts'
export { type Emulator, type EmulatorOptions, startEmulator } from './emulator-server.ts'
export { EmulatorError, type EmulatorErrorCode } from './errors.ts'
export type { RestFault } from './rest/faults.ts'
export type { RestLogEntry } from './runtime.ts'
export {
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  DEFAULT_WORLD,
} from './world/default-world.ts'
export { type ParsedWorldSeed, type WorldSeed, WorldSeedSchema } from './world/seed.ts'
export { DISCORD_GUILDS_PER_SHARD, shardOf } from './world/sharding.ts'
export { defaultBotToken } from './world/world.ts'
