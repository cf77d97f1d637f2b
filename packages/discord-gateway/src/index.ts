export type {
  ClusteredVoiceFeed,
  ClusteredVoiceFeedOptions,
  ClusterHandover,
  ClusterStatus,
} from './cluster/clustered-feed'
export { createClusteredVoiceFeed } from './cluster/clustered-feed'
export type { FeedEntry, FeedMeta } from './cluster/feed-codec'
export type { FeedRecord, WriterStats } from './cluster/fenced-writer'
export type {
  CandidateState,
  CandidateStatus,
  GatewayCandidate,
  GatewayCandidateOptions,
} from './cluster/gateway-candidate'
export { createGatewayCandidate } from './cluster/gateway-candidate'
export type { LeaseGrant, LeaseHolder, LeaseLoss } from './cluster/gateway-lease'
export { GatewayLease } from './cluster/gateway-lease'
export type { GatewayKeys, ShardRef, VoiceFeedKeys } from './cluster/keys'
export { gatewayKeys, ONE_SHARD, voiceFeedKeys } from './cluster/keys'
export type { Handover } from './cluster/leader-term'
export type {
  MirrorSnapshot,
  MirrorState,
  MirrorStatus,
  ResyncInfo,
  ResyncReason,
  VoiceEventOrigin,
} from './cluster/mirror-contract'
export type { ClusterRedisOptions } from './cluster/redis-connections'
export { createClusterRedis } from './cluster/redis-connections'
export type { GatewayEnv, WorkerEnv } from './config'
export {
  GatewayEnvSchema,
  parseGatewayEnv,
  parseWorkerEnv,
  WorkerEnvSchema,
} from './config'
export type { GatewayErrorCode } from './errors'
export { GatewayError } from './errors'
export type { ConnectionTimings } from './gateway/connection-options'
export type {
  GatewayState,
  GatewayStatus,
  IdentifyBudget,
  StatusChange,
} from './gateway-status'
export type { GuildChange, GuildPresence, GuildVoice, ShardStatus } from './guilds/guild-voice'
export type { GuildVoiceSource, OneGuildView } from './guilds/one-guild-view'
export { oneGuildView } from './guilds/one-guild-view'
export { shardOf } from './guilds/shard-of'
export type { RedisConnectionEnv, SentinelAddress } from './redis-sentinel-config'
export {
  DEFAULT_SENTINEL_PORT,
  describeRedisTarget,
  REDIS_SENTINEL_ENV,
  redisConnectionOptions,
  refineRedisSentinelEnv,
} from './redis-sentinel-config'
export { FileSessionStore } from './session/file-session-store'
export type {
  PersistedGateway,
  PersistedGatewayV1,
  PersistedGatewayV2,
} from './session/persisted-gateway'
export { PersistedGatewaySchema } from './session/persisted-gateway'
export { RedisSessionStore } from './session/redis-session-store'
export type { GatewaySessionStore } from './session/session-store'
export { MemorySessionStore } from './session/session-store'
export type { BackoffOptions } from './supervision/backoff'
export { backoffCeiling, fullJitterDelay } from './supervision/backoff'
export type { Clock } from './supervision/clock'
export type { VoiceReadApi, VoiceSnapshot } from './voice/voice-mirror'
export { applyVoiceEvent } from './voice/voice-mirror'
export type {
  DispatchInput,
  ReduceResult,
  VoiceStateReducer,
  VoiceStoreState,
} from './voice/voice-state-reducer'
export { createVoiceStateReducer, createVoiceStoreState, reduce } from './voice/voice-state-reducer'
export type { VoiceFeed, VoiceFeedOptions, VoiceFeedStatus } from './voice-feed'
export { createVoiceFeed } from './voice-feed'
