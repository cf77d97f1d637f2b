import { LuaScript } from './lua-script'

/**
 * The leader's fenced writes and everyone's atomic reads of a guild's voice feed.
 *
 * KEYS of the writes, in this order: fence, stream, members, profiles, meta, session, shard
 * count (see keys.ts). Every write is refused (`fenced`) when the deployment's shard count is no
 * longer the writer's (a reshard happened), before the fencing token is even looked at. Numbers travel as decimal strings (Lua's numbers are doubles; every value here is an
 * integer below 2^53). A script's writes cannot be rolled back, so each write script checks
 * everything first and only then writes.
 */

/**
 * Appends one batch of the leader's records. ARGV: token, batch JSON, stream MAXLEN (~).
 *
 * Batch: `{epoch, n, updatedAt, shard: [id, count], records: [{sessionId, seq, synced,
 * resumeURL, holdSession?, events: [{json, feedSeq}], members: [[userId, json | '']], profiles:
 * [[userId, json]]}]}` (`''` = the user left voice; resumeURL is '' when unknown). When the last
 * applied record has `holdSession`, the shard's session hash is left as it is (the same
 * dispatch's guild change still has to be written; that write moves the session on).
 *
 * Returns:
 * - `{'fenced', currentFence}`: the token is not the current one, or the shard count moved on
 *   (`currentFence` is then `shard count N`); nothing written.
 * - `{'diverged', why}`: meta's epoch is not the batch's (Redis lost or replaced the snapshot),
 *   or the first new event does not follow meta's feedSeq; nothing written. The leader reseeds.
 * - `{'duplicate', lastId}`: this writer's batch n (or a later one) is already applied (a retry
 *   whose first reply was lost).
 * - `{'ok', lastId, applied, skipped, added}`: records with the meta's session and a sequence not above
 *   meta's are skipped (Discord's replay of what is already in the stream); the others are
 *   appended (XADD per event), applied to the snapshot hashes, and meta and the session hash
 *   move to the last one, all in this one script (`added` = stream entries appended).
 */
export const WRITE_BATCH = new LuaScript(
  'write-batch',
  `
local token = ARGV[1]
local batch = cjson.decode(ARGV[2])
local count = redis.call('GET', KEYS[7])
if count and count ~= string.format('%.0f', batch.shard[2]) then return {'fenced', 'shard count ' .. count} end
local fence = redis.call('GET', KEYS[1])
if fence ~= token then return {'fenced', fence or ''} end
local meta = redis.call('HMGET', KEYS[5], 'epoch', 'writer', 'sessionId', 'seq', 'feedSeq', 'lastId', 'synced')
if meta[1] ~= batch.epoch then return {'diverged', 'epoch'} end
local lastId = meta[6] or '0-0'
if meta[2] then
  local sep = string.find(meta[2], ':', 1, true)
  if sep and string.sub(meta[2], 1, sep - 1) == token and tonumber(string.sub(meta[2], sep + 1)) >= batch.n then
    return {'duplicate', lastId}
  end
end
local sessionId = meta[3] or ''
local seq = tonumber(meta[4] or '0')
local feedSeq = tonumber(meta[5] or '0')
local apply = {}
local skipped = 0
for _, r in ipairs(batch.records) do
  local rseq = tonumber(r.seq)
  if r.sessionId == sessionId and rseq <= seq then
    skipped = skipped + 1
  else
    for _, e in ipairs(r.events) do
      local f = tonumber(e.feedSeq)
      if f ~= feedSeq + 1 then return {'diverged', 'feedSeq'} end
      feedSeq = f
    end
    sessionId = r.sessionId
    seq = rseq
    apply[#apply + 1] = r
  end
end
local synced = meta[7] or '0'
local resumeURL = false
local added = 0
local hold = false
for _, r in ipairs(apply) do
  hold = r.holdSession == true
  for _, e in ipairs(r.events) do
    added = added + 1
    lastId = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',
      'epoch', batch.epoch, 'event', e.json, 'sessionId', r.sessionId, 'seq', r.seq,
      'feedSeq', e.feedSeq, 'token', token)
  end
  for _, m in ipairs(r.members) do
    if m[2] == '' then redis.call('HDEL', KEYS[3], m[1]) else redis.call('HSET', KEYS[3], m[1], m[2]) end
  end
  for _, p in ipairs(r.profiles) do redis.call('HSET', KEYS[4], p[1], p[2]) end
  if r.synced then synced = '1' end
  if r.resumeURL ~= '' then resumeURL = r.resumeURL end
end
local seqText = string.format('%.0f', seq)
redis.call('HSET', KEYS[5], 'writer', token .. ':' .. string.format('%.0f', batch.n),
  'lastId', lastId, 'feedSeq', string.format('%.0f', feedSeq), 'sessionId', sessionId,
  'seq', seqText, 'synced', synced, 'updatedAt', batch.updatedAt)
if #apply > 0 and not hold then
  if resumeURL then
    redis.call('HSET', KEYS[6], 'resumeURL', resumeURL)
  elseif redis.call('HGET', KEYS[6], 'sessionId') ~= sessionId then
    redis.call('HDEL', KEYS[6], 'resumeURL')
  end
  redis.call('HSET', KEYS[6], 'sessionId', sessionId, 'seq', seqText,
    'shardId', tostring(batch.shard[1]), 'shardCount', tostring(batch.shard[2]),
    'token', token, 'updatedAt', batch.updatedAt)
end
return {'ok', lastId, #apply, skipped, added}
`,
)

/**
 * Replaces the whole feed with the leader's state under a new epoch: the stream is emptied (its
 * readers see the new epoch and reload), the snapshot hashes, meta and the session hash are
 * written from scratch. ARGV: token, JSON `{epoch, n, updatedAt, shard, sessionId, seq,
 * resumeURL, feedSeq, synced, members: [[userId, json]], profiles: [[userId, json]]}`.
 * Returns `{'fenced', currentFence}` or `{'ok', '0-0'}`.
 */
export const RESEED_FEED = new LuaScript(
  'reseed-feed',
  `
local token = ARGV[1]
local d = cjson.decode(ARGV[2])
local count = redis.call('GET', KEYS[7])
if count and count ~= string.format('%.0f', d.shard[2]) then return {'fenced', 'shard count ' .. count} end
local fence = redis.call('GET', KEYS[1])
if fence ~= token then return {'fenced', fence or ''} end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
local function hsetAll(key, pairs)
  local args = {}
  for _, p in ipairs(pairs) do
    args[#args + 1] = p[1]
    args[#args + 1] = p[2]
    if #args >= 400 then
      redis.call('HSET', key, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
end
hsetAll(KEYS[3], d.members)
hsetAll(KEYS[4], d.profiles)
redis.call('HSET', KEYS[5], 'epoch', d.epoch, 'writer', token .. ':' .. string.format('%.0f', d.n),
  'lastId', '0-0', 'feedSeq', d.feedSeq, 'sessionId', d.sessionId, 'seq', d.seq,
  'synced', d.synced and '1' or '0', 'updatedAt', d.updatedAt)
if d.sessionId ~= '' and d.resumeURL ~= '' then
  redis.call('HSET', KEYS[6], 'sessionId', d.sessionId, 'seq', d.seq, 'resumeURL', d.resumeURL,
    'shardId', tostring(d.shard[1]), 'shardCount', tostring(d.shard[2]), 'token', token,
    'updatedAt', d.updatedAt)
end
return {'ok', '0-0'}
`,
)

/** What a new leader restores from, read atomically. KEYS: meta, members, profiles, session. */
export const READ_LEADER_STATE = new LuaScript(
  'read-leader-state',
  `
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('HVALS', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[4]),
}
`,
)

/** A reader's snapshot: meta and members as of meta.lastId, read atomically. KEYS: meta, members. */
export const READ_SNAPSHOT = new LuaScript(
  'read-snapshot',
  `
return { redis.call('HGETALL', KEYS[1]), redis.call('HVALS', KEYS[2]) }
`,
)

/**
 * A shard leader's change to the guild list, fenced like the voice writes. KEYS: fence, the guild
 * registry hash, the guild events stream, the shard's session hash, the shards-settled hash, the
 * shard count (set if missing: Redis may have lost it).
 * ARGV: token, guildId, presence JSON (`''` = the guild is gone: HDEL), change JSON (`''` = no
 * event, only the registry), sessionId, seq, shardId, shardCount, resumeURL, updatedAt, MAXLEN
 * (~), settled (`1`/`0`: every guild of the shard's READY is settled; `''` = unchanged).
 * The session hash moves to `seq` (this write is the last of its dispatch). Returns
 * `{'fenced', currentFence}` (also when the stored shard count is not `shardCount`) or
 * `{'ok', entryId | ''}`.
 */
export const WRITE_GUILD_CHANGE = new LuaScript(
  'write-guild-change',
  `
local token = ARGV[1]
local count = redis.call('GET', KEYS[6])
if count and count ~= ARGV[8] then return {'fenced', 'shard count ' .. count} end
local fence = redis.call('GET', KEYS[1])
if fence ~= token then return {'fenced', fence or ''} end
if ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
local id = ''
if ARGV[4] ~= '' then
  id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[11], '*', 'change', ARGV[4], 'token', token)
end
if ARGV[5] ~= '' then
  if redis.call('HGET', KEYS[4], 'sessionId') ~= ARGV[5] then redis.call('HDEL', KEYS[4], 'resumeURL') end
  if ARGV[9] ~= '' then redis.call('HSET', KEYS[4], 'resumeURL', ARGV[9]) end
  redis.call('HSET', KEYS[4], 'sessionId', ARGV[5], 'seq', ARGV[6], 'shardId', ARGV[7],
    'shardCount', ARGV[8], 'token', token, 'updatedAt', ARGV[10])
end
if ARGV[12] ~= '' then redis.call('HSET', KEYS[5], ARGV[7] .. ':' .. ARGV[8], ARGV[12]) end
redis.call('SET', KEYS[6], ARGV[8], 'NX')
return {'ok', id}
`,
)

/** The guild list as readers need it. KEYS: registry, shards-settled hash, shard count. */
export const READ_GUILDS = new LuaScript(
  'read-guilds',
  `
return { redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('GET', KEYS[3]) or '' }
`,
)
