import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { OAuthClient } from '@repo/discord-integration'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileLoginSessionStore } from '../../src/features/auth/file-login-session-store.server'
import {
  type LoginSession,
  type LoginSessionStore,
  SESSION_IDLE_MS,
} from '../../src/features/auth/login-session'
import {
  LoginSessions,
  type LoginSessionsOptions,
  type SessionHolder,
} from '../../src/features/auth/login-sessions.server'
import { SessionKeys } from '../../src/features/auth/session-keys.server'
import { logger, SECRET } from '../rooms/harness'

/** A store that counts its reads, around a real file store. */
class CountingStore extends FileLoginSessionStore {
  reads = 0
  override get(id: string, now: number): Promise<LoginSession | null> {
    this.reads++
    return super.get(id, now)
  }
}

const oauth = {
  refresh: async () => {
    throw new Error('no refresh in these tests')
  },
  revoke: async () => undefined,
} as unknown as Pick<OAuthClient, 'refresh' | 'revoke'>

const user = (n: number) => ({
  userId: `1000000000000000${String(n).padStart(2, '0')}`,
  username: `u${n}`,
  globalName: null,
  avatar: null,
})
const tokens = { accessToken: 'access', refreshToken: 'refresh', expiresAt: Date.now() + 3_600_000 }

let dir: string
let now: number
let store: CountingStore
let started: LoginSessions[]

function makeSessions(options: Partial<LoginSessionsOptions> = {}, on: LoginSessionStore = store) {
  const sessions = new LoginSessions({
    store: on,
    keys: new SessionKeys(SECRET),
    oauth,
    now: () => now,
    logger,
    ...options,
  })
  started.push(sessions)
  return sessions
}

/** A holder of sessions (the presence service's part) that records what it was told to end. */
function holder(ids: string[] = []): SessionHolder & { ended: string[]; ids: string[] } {
  const h = {
    ids,
    ended: [] as string[],
    sessionIds: () => h.ids,
    endSessions: (gone: readonly string[]) => {
      h.ended.push(...gone)
      h.ids = h.ids.filter((id) => !gone.includes(id))
    },
  }
  return h
}

beforeEach(async () => {
  now = Date.now()
  dir = await mkdtemp(join(tmpdir(), 'tv-login-sessions-'))
  store = new CountingStore(join(dir, 'sessions.json'))
  started = []
})
afterEach(async () => {
  for (const s of started) await s.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('login sessions: this node’s cache', () => {
  it('answers a session seen recently from memory, with a copy each time', async () => {
    const sessions = makeSessions()
    const { cookieValue } = await sessions.create(user(1), tokens)
    const first = await sessions.lookup(cookieValue)
    const second = await sessions.lookup(cookieValue)
    expect(store.reads).toBe(0)
    expect(first.state === 'active' && second.state === 'active').toBe(true)
    if (first.state !== 'active' || second.state !== 'active') return
    expect(second.session).toEqual(first.session)
    second.session.user.username = 'changed'
    const third = await sessions.lookup(cookieValue)
    expect(third.state === 'active' && third.session.user.username).toBe('u1')
  })

  it('reads the store after its ttl, or when the cache is off, and is bounded (least recently used first)', async () => {
    const sessions = makeSessions({ cache: { ttlMs: 1000, maxEntries: 2 } })
    const a = await sessions.create(user(1), tokens)
    const b = await sessions.create(user(2), tokens)
    const c = await sessions.create(user(3), tokens) // a, the least recently used, goes
    expect(sessions.cacheStats().size).toBe(2)
    await sessions.lookup(b.cookieValue)
    await sessions.lookup(c.cookieValue)
    expect(store.reads).toBe(0)
    await sessions.lookup(a.cookieValue) // read, cached again; b goes
    expect(store.reads).toBe(1)
    await sessions.lookup(c.cookieValue)
    expect(store.reads).toBe(1)
    await sessions.lookup(b.cookieValue)
    expect(store.reads).toBe(2)
    now += 1001
    await sessions.lookup(b.cookieValue) // past its ttl
    expect(store.reads).toBe(3)
    const off = makeSessions({ cache: { maxEntries: 0 } })
    const d = await off.create(user(4), tokens)
    await off.lookup(d.cookieValue)
    await off.lookup(d.cookieValue)
    expect(store.reads).toBe(5)
    expect(off.cacheStats().size).toBe(0)
  })

  it('drops a session the moment it ends on any handle of the store, and tells the holders', async () => {
    const here = makeSessions()
    const there = makeSessions()
    await here.start()
    const { cookieValue, session } = await here.create(user(1), tokens)
    expect((await here.lookup(cookieValue)).state).toBe('active')
    const sockets = holder([session.id, 'another'])
    here.attach(sockets)
    // Ended through another LoginSessions on the same store (another node, on one node's file).
    await there.end([session.id], { revokeDiscord: false })
    expect(sockets.ended).toEqual([session.id])
    expect(await here.lookup(cookieValue)).toEqual({ state: 'ended', id: session.id })
  })

  it('an ending announced while the store was being read wins over that read', async () => {
    const slow = new (class extends FileLoginSessionStore {
      gate: (() => void) | null = null
      override async get(id: string, at: number) {
        const found = await super.get(id, at)
        await new Promise<void>((resolve) => {
          this.gate = resolve
        })
        return found
      }
    })(join(dir, 'slow.json'))
    const sessions = makeSessions({ cache: { maxEntries: 0 } }, slow)
    await sessions.start()
    const { cookieValue, session } = await sessions.create(user(1), tokens)
    const reading = sessions.lookup(cookieValue)
    await new Promise((done) => setTimeout(done, 10))
    // The store still answered with the session when the notice came.
    await slow.end([session.id])
    slow.gate?.()
    expect((await reading).state).toBe('ended')
    await slow.close()
  })

  it('after notices may have been lost (null), drops the cache and checks the holders’ sessions', async () => {
    let notify: ((ids: string[] | null) => void) | null = null
    const watched = new (class extends FileLoginSessionStore {
      override watch(listener: (ids: string[] | null) => void) {
        notify = listener
        return () => undefined
      }
    })(join(dir, 'watched.json'))
    const sessions = makeSessions({}, watched)
    await sessions.start()
    const live = await sessions.create(user(1), tokens)
    const gone = await sessions.create(user(2), tokens)
    const sockets = holder([live.session.id, gone.session.id])
    sessions.attach(sockets)
    // Ended elsewhere, and the notice never came (a Redis reconnect).
    await watched.end([gone.session.id])
    expect(sockets.ended).toEqual([])
    ;(notify as ((ids: string[] | null) => void) | null)?.(null)
    await new Promise((done) => setTimeout(done, 20))
    expect(sockets.ended).toEqual([gone.session.id])
    expect((await sessions.lookup(gone.cookieValue)).state).toBe('ended')
    expect((await sessions.lookup(live.cookieValue)).state).toBe('active')
    await watched.close()
  })
})

describe('login sessions: lifetime', () => {
  it('records use at most once a day, and ends after 30 days without use', async () => {
    const sessions = makeSessions({ cache: { maxEntries: 0 } })
    const { cookieValue } = await sessions.create(user(1), tokens)
    now += 23 * 3_600_000
    expect(await sessions.lookup(cookieValue)).toMatchObject({ state: 'active', renewed: false })
    now += 2 * 3_600_000
    const used = await sessions.lookup(cookieValue)
    expect(used).toMatchObject({ state: 'active', renewed: true })
    await new Promise((done) => setTimeout(done, 10)) // the use is written in the background
    const usedAt = now
    now = usedAt + SESSION_IDLE_MS - 1
    expect(await sessions.lookup(cookieValue)).toMatchObject({ state: 'active' })
    now = usedAt + 2 * SESSION_IDLE_MS
    expect((await sessions.lookup(cookieValue)).state).toBe('ended')
  })

  it('the recheck ends, in the holders, sessions that expired (no notice announces those)', async () => {
    const sessions = makeSessions({ recheckIntervalMs: 20 })
    await sessions.start()
    const { session } = await sessions.create(user(1), tokens)
    const other = await sessions.create(user(2), tokens)
    const sockets = holder([session.id, other.session.id])
    sessions.attach(sockets)
    now = session.expiresAt - 1
    await new Promise((done) => setTimeout(done, 60))
    expect(sockets.ended).toEqual([])
    now = session.expiresAt + 1
    // `other` expires at the same moment: both go.
    await new Promise((done) => setTimeout(done, 60))
    expect(sockets.ended.sort()).toEqual([session.id, other.session.id].sort())
  })

  it('expired sessions are removed from the store when it starts and every sweep', async () => {
    const sessions = makeSessions({ sweepIntervalMs: 20 })
    const { session } = await sessions.create(user(1), tokens)
    now = session.expiresAt + 1
    await sessions.start()
    expect(await store.live([session.id], 0)).toEqual(new Set())
  })

  it('a cookie that is not ours reads as invalid, no cookie as none, without touching the store', async () => {
    const sessions = makeSessions()
    expect(await sessions.lookup(null)).toEqual({ state: 'none' })
    expect(await sessions.lookup('Fe26.2**old-format')).toEqual({ state: 'invalid' })
    const foreign = new LoginSessions({
      store,
      keys: new SessionKeys('z'.repeat(48)),
      oauth,
      now: () => now,
      logger,
    })
    const { cookieValue } = await foreign.create(user(1), tokens)
    expect(await sessions.lookup(cookieValue)).toEqual({ state: 'invalid' })
    expect(store.reads).toBe(0)
  })
})
