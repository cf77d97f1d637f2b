import { LuaScript } from './lua-script'

/**
 * Takes the lease if nobody holds it. KEYS: lease, fence. ARGV: holderId, ttlMs.
 * The new token is max(fence + 1, Redis's TIME in ms): it grows with every acquisition, and it
 * keeps growing across a Redis that lost everything (the fence starts again from the clock,
 * which is past every token handed out before, unless the Redis host's clock went back).
 * Returns {1, 'holder:token'} when taken, {0, 'holder:token'} of the current holder otherwise.
 */
export const ACQUIRE_LEASE = new LuaScript(
  'acquire-lease',
  `
local current = redis.call('GET', KEYS[1])
if current then return {0, current} end
local fence = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = string.format('%.0f', math.max(fence + 1, nowMs))
redis.call('SET', KEYS[2], token)
local value = ARGV[1] .. ':' .. token
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, value}
`,
)

/**
 * Extends the lease while it is still ours. KEYS: lease. ARGV: 'holder:token', ttlMs.
 * Returns {1, ''} (renewed), {0, 'holder:token'} (someone else holds it) or {-1, ''} (nobody
 * holds it: it expired, or Redis lost it).
 */
export const RENEW_LEASE = new LuaScript(
  'renew-lease',
  `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, ''}
end
if current then return {0, current} end
return {-1, ''}
`,
)

/** Deletes the lease only while it is ours. KEYS: lease. ARGV: 'holder:token'. Returns 1 if deleted. */
export const RELEASE_LEASE = new LuaScript(
  'release-lease',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
)

/** A lease value `holderId:token` (the holder id may itself contain colons). */
export interface LeaseValue {
  readonly holderId: string
  readonly token: number
}

export function parseLeaseValue(value: unknown): LeaseValue | null {
  if (typeof value !== 'string') return null
  const at = value.lastIndexOf(':')
  if (at <= 0) return null
  const token = Number(value.slice(at + 1))
  if (!Number.isSafeInteger(token) || token <= 0) return null
  return { holderId: value.slice(0, at), token }
}

/**
 * Records the leader's handover (taking the lease to READY/RESUMED) for every node's health, only
 * while `token` is still the fence. KEYS: fence, handover. ARGV: token, holderId, at, durationMs,
 * mode. Returns 1 when written, 0 when fenced.
 */
export const RECORD_HANDOVER = new LuaScript(
  'record-handover',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'token', ARGV[1], 'holderId', ARGV[2], 'at', ARGV[3], 'durationMs', ARGV[4], 'mode', ARGV[5])
return 1
`,
)
