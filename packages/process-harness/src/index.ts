export type { OutputLine, ProcessExit, SpawnOptions } from './managed-process'
export {
  ManagedProcess,
  pidAlive,
  runningProcesses,
  spawnProcess,
  stopAll,
  waitForPidGone,
} from './managed-process'
export { freePort } from './ports'
export type { RespReply } from './redis-command'
export { RespError, redisCommand, redisCommands } from './redis-command'
export type {
  RedisSentinel,
  RedisSentinelGroup,
  RedisSentinelOptions,
} from './redis-sentinel'
export { redisRole, startRedisSentinel, startRedisSentinelGroup } from './redis-sentinel'
export type { RedisServer, RedisServerOptions } from './redis-server'
export { redisAnswers, startRedisServer } from './redis-server'
export type { TcpProxy } from './tcp-proxy'
export { startTcpProxy } from './tcp-proxy'
export { waitUntil } from './wait'
