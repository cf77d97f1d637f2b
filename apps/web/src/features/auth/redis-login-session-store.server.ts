import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisChannelWatch } from '../../server/redis-channel-watch.server'
import { type LoginSession, LoginSessionSchema, type LoginSessionStore } from './login-session'

/** Extends a user index's expiry to `ttl` ms unless it already lives longer. */
const EXTEND_INDEX = `
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`

/**
 * Create in one call: stores the session (ARGV[1]) with its time to live (ARGV[3] ms), indexes it
 * under its user, forgets index entries whose session expired, and ends the least recently used of
 * the user's other sessions beyond ARGV[4] (deleted, announced on ARGV[6]). Returns the ended
 * sessions' JSON.
 */
const CREATE_SCRIPT = `${EXTEND_INDEX}
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('session id exists') end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('SADD', KEYS[2], ARGV[2])
extend(KEYS[2], ttl)
local others = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if id ~= ARGV[2] then
    local raw = redis.call('GET', ARGV[5] .. id)
    if raw then
      table.insert(others, { id = id, raw = raw, seen = cjson.decode(raw).lastSeenAt })
    else
      redis.call('SREM', KEYS[2], id)
    end
  end
end
local excess = #others + 1 - tonumber(ARGV[4])
local ended, ids = {}, {}
if excess > 0 then
  table.sort(others, function(a, b)
    if a.seen ~= b.seen then return a.seen < b.seen end
    return a.id < b.id
  end)
  for i = 1, excess do
    redis.call('DEL', ARGV[5] .. others[i].id)
    redis.call('SREM', KEYS[2], others[i].id)
    table.insert(ended, others[i].raw)
    table.insert(ids, others[i].id)
  end
  redis.call('PUBLISH', ARGV[6], table.concat(ids, ','))
end
return ended
`

/**
 * Compare-and-set of one session: writes ARGV[2] (time to live ARGV[3] ms) only if the stored
 * value is still ARGV[1]. 1 = written, 0 = changed meanwhile, -1 = no such session (never
 * recreated).
 */
const UPDATE_SCRIPT = `${EXTEND_INDEX}
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
extend(KEYS[2], ttl)
return 1
`

/** Ends the sessions ARGV[4..]: deleted, unindexed, announced on ARGV[3]. Returns their JSON. */
const END_SCRIPT = `
local ended, ids = {}, {}
for i = 4, #ARGV do
  local raw = redis.call('GET', ARGV[1] .. ARGV[i])
  if raw then
    redis.call('DEL', ARGV[1] .. ARGV[i])
    redis.call('SREM', ARGV[2] .. cjson.decode(raw).user.userId, ARGV[i])
    table.insert(ended, raw)
    table.insert(ids, ARGV[i])
  end
end
if #ids > 0 then redis.call('PUBLISH', ARGV[3], table.concat(ids, ',')) end
return ended
`

/** Ends every session in the user index KEYS[1], announced on ARGV[2]. Returns their JSON. */
const END_USER_SCRIPT = `
local ended, ids = {}, {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    redis.call('DEL', ARGV[1] .. id)
    table.insert(ended, raw)
    table.insert(ids, id)
  end
end
redis.call('DEL', KEYS[1])
if #ids > 0 then redis.call('PUBLISH', ARGV[2], table.concat(ids, ',')) end
return ended
`

/**
 * The store's life: a marker key without expiry that exists as long as Redis holds the store's
 * data. KEYS: marker. ARGV: a fresh id. Returns the current marker (set if missing).
 */
const JOIN_LIFE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`

/**
 * Writes back a node's sessions after the store lost its data. KEYS: marker. ARGV: the life this
 * node knows, a new life id, session key prefix, user index prefix, then (id, json, ttlMs, userId)
 * per session. Nothing is written while the marker is the known life: {-1, marker}. Otherwise
 * (Redis lost the data since this node last looked) every session absent from the store is
 * written (SET NX, never over a newer record) and indexed; the marker is set to the new id unless
 * another node already set one after the loss (each node writes back its own sessions, and all
 * join the same new life): {written, marker}.
 */
const RESTORE_SCRIPT = `${EXTEND_INDEX}
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return {-1, current} end
local written = 0
for i = 5, #ARGV, 4 do
  local ttl = tonumber(ARGV[i + 2])
  if redis.call('SET', ARGV[3] .. ARGV[i], ARGV[i + 1], 'PX', ttl, 'NX') then
    local index = ARGV[4] .. ARGV[i + 3]
    redis.call('SADD', index, ARGV[i])
    extend(index, ttl)
    written = written + 1
  end
end
if not current then
  current = ARGV[2]
  redis.call('SET', KEYS[1], current)
end
return {written, current}
`

const MAX_CAS_ATTEMPTS = 50

/**
 * The multi-node session store on Redis: each session is one JSON value under
 * `${prefix}login-session:{id}` whose key expires with the session (PX, renewed when the session
 * is used), each user's session ids are a set `${prefix}user-login-sessions:{userId}` that lives
 * as long as the user's longest session, and every ending is published (the ids, comma-separated)
 * on `${prefix}login-sessions:ended`, which {@link watch} listens to. Writes that read first are
 * Lua scripts, so they are atomic across nodes.
 */
export class RedisLoginSessionStore implements LoginSessionStore {
  readonly #redis: Redis
  readonly #prefix: string
  #watch: RedisChannelWatch<string[]> | null = null
  /** The store's life this node knows (see restore), null before the first call. */
  #life: string | null = null

  constructor(redis: Redis, prefix = 'tv:') {
    this.#redis = redis
    this.#prefix = prefix
  }

  get #sessionPrefix(): string {
    return `${this.#prefix}login-session:`
  }
  get #userPrefix(): string {
    return `${this.#prefix}user-login-sessions:`
  }
  get #lifeKey(): string {
    return `${this.#prefix}login-sessions:life`
  }
  /** The pub/sub channel of ended sessions. */
  get endedChannel(): string {
    return `${this.#prefix}login-sessions:ended`
  }

  async get(id: string, now: number): Promise<LoginSession | null> {
    const raw = await this.#redis.get(this.#sessionPrefix + id)
    const session = raw === null ? null : parse(raw)
    return session && session.expiresAt > now ? session : null
  }

  async create(
    session: LoginSession,
    options: { maxPerUser: number; now: number },
  ): Promise<LoginSession[]> {
    const ended = (await this.#redis.eval(
      CREATE_SCRIPT,
      2,
      this.#sessionPrefix + session.id,
      this.#userPrefix + session.user.userId,
      JSON.stringify(session),
      session.id,
      ttlOf(session, options.now),
      options.maxPerUser,
      this.#sessionPrefix,
      this.endedChannel,
    )) as string[]
    return ended.map(parse)
  }

  async update(
    id: string,
    now: number,
    fn: (session: LoginSession) => LoginSession | undefined,
  ): Promise<LoginSession | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.#redis.get(this.#sessionPrefix + id)
      const current = raw === null ? null : parse(raw)
      if (raw === null || !current || current.expiresAt <= now) return null
      const next = fn(current)
      if (next === undefined) return current
      const written = await this.#redis.eval(
        UPDATE_SCRIPT,
        2,
        this.#sessionPrefix + id,
        this.#userPrefix + current.user.userId,
        raw,
        JSON.stringify(next),
        ttlOf(next, now),
      )
      if (written === 1) return next
      if (written === -1) return null
    }
    throw new Error('session: too many concurrent updates')
  }

  async end(ids: readonly string[]): Promise<LoginSession[]> {
    if (ids.length === 0) return []
    const ended = (await this.#redis.eval(
      END_SCRIPT,
      0,
      this.#sessionPrefix,
      this.#userPrefix,
      this.endedChannel,
      ...ids,
    )) as string[]
    return ended.map(parse)
  }

  async endUser(userId: string): Promise<LoginSession[]> {
    const ended = (await this.#redis.eval(
      END_USER_SCRIPT,
      1,
      this.#userPrefix + userId,
      this.#sessionPrefix,
      this.endedChannel,
    )) as string[]
    return ended.map(parse)
  }

  async live(ids: readonly string[], _now: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    // The keys expire with their sessions, so existing is being live, within the store's life this
    // node knows: read with the marker in one transaction, since a missing key after a loss of the
    // data (even one that happens while this runs) says nothing until restore wrote back.
    const results = await this.#redis
      .multi([['get', this.#lifeKey], ...ids.map((id) => ['exists', this.#sessionPrefix + id])])
      .exec()
    if (!results || results.some(([error]) => error)) throw new Error('session check failed')
    if (this.#life !== null && results[0]?.[1] !== this.#life) {
      throw new Error('the session store lost its data since this node last restored it')
    }
    return new Set(ids.filter((_, i) => results[i + 1]?.[1] === 1))
  }

  /**
   * The first call joins the store's life (a marker key, created when missing) and writes
   * nothing. Later calls compare the marker with that life: while it is the same, Redis kept the
   * data and nothing is written (one GET); when it is gone or another (Redis restarted without
   * its data, or was flushed), the sessions `held` gives that are still live and absent from the
   * store are written back and this node joins the store's new life. Returns how many were written.
   */
  async restore(held: () => readonly LoginSession[], now: number): Promise<number> {
    const marker = this.#lifeKey
    if (this.#life === null) {
      this.#life = String(
        await this.#redis.eval(JOIN_LIFE_SCRIPT, 1, marker, `life:${randomUUID()}`),
      )
      return 0
    }
    if ((await this.#redis.get(marker)) === this.#life) return 0
    const args = held()
      .filter((session) => session.expiresAt > now)
      .flatMap((session) => [
        session.id,
        JSON.stringify(session),
        String(ttlOf(session, now)),
        session.user.userId,
      ])
    const [written, life] = (await this.#redis.eval(
      RESTORE_SCRIPT,
      1,
      marker,
      this.#life,
      `life:${randomUUID()}`,
      this.#sessionPrefix,
      this.#userPrefix,
      ...args,
    )) as [number, string]
    this.#life = life
    return Math.max(0, Number(written))
  }

  /** Nothing to do: Redis expires the keys itself. */
  async sweep(): Promise<number> {
    return 0
  }

  /**
   * Calls `listener` with the ids of every session ended through any store on the same prefix (this
   * node's included), and with null after the subscriber connection came back, since notices may
   * have been lost meanwhile. One subscriber connection (a duplicate of the client) serves all.
   */
  watch(listener: (ids: string[] | null) => void): () => void {
    this.#watch ??= new RedisChannelWatch(this.#redis, this.endedChannel, (message) =>
      message.split(',').filter(Boolean),
    )
    return this.#watch.add(listener)
  }

  /** Resolves once the subscription to ended sessions is acknowledged (start-up, tests). */
  watching(): Promise<void> {
    return this.#watch?.subscribed() ?? Promise.resolve()
  }

  async close(): Promise<void> {
    // The main connection belongs to the caller; the subscriber is ours.
    this.#watch?.close()
    this.#watch = null
  }
}

function parse(raw: string): LoginSession {
  return LoginSessionSchema.parse(JSON.parse(raw))
}

/** The key's time to live: until the session expires (at least 1 ms, as PX requires). */
function ttlOf(session: LoginSession, now: number): number {
  return Math.max(1, Math.ceil(session.expiresAt - now))
}
