import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type LoginSession,
  type LoginSessionStore,
  SESSION_IDLE_MS,
} from '../../src/features/auth/login-session'

/** One store under test, with what the contract needs around it. */
export interface SessionStoreUnderTest {
  store: LoginSessionStore
  /** Another handle on the same data: another node for a shared store, the instance itself otherwise. */
  other(): Promise<LoginSessionStore>
  /** A new handle on the same data once `store` is closed: a restart. */
  reopen(): Promise<LoginSessionStore>
  /** Resolves once the watches of every handle made so far are in place (stores that need it). */
  watching(): Promise<void>
  dispose(): Promise<void>
}

export interface SessionStoreFactory {
  create(): Promise<SessionStoreUnderTest>
}

/** A session record as LoginSessions makes them (the tokens field is opaque to a store). */
export function loginSession(
  userId: string,
  overrides: Partial<LoginSession> = {},
  now = Date.now(),
): LoginSession {
  return {
    v: 1,
    id: randomBytes(32).toString('base64url'),
    user: { userId, username: `u${userId.slice(-4)}`, globalName: null, avatar: null },
    tokens: `v1.sealed-${randomBytes(4).toString('hex')}`,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + SESSION_IDLE_MS,
    ...overrides,
  }
}

const ALICE = '100000000000000001'
const BOB = '100000000000000002'
const opts = (maxPerUser = 10) => ({ maxPerUser, now: Date.now() })

async function until(check: () => boolean, what: string, ms = 3000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 10))
  }
}

/** The behaviour every LoginSessionStore must have (file on one node, Redis on several). */
export function loginSessionStoreContract(name: string, factory: SessionStoreFactory) {
  describe(`login session store contract: ${name}`, () => {
    let sut: SessionStoreUnderTest
    let store: LoginSessionStore
    beforeEach(async () => {
      sut = await factory.create()
      store = sut.store
    })
    afterEach(async () => {
      await sut.dispose()
    })

    it('keeps a session until it ends, and finds nothing for an unknown id', async () => {
      const session = loginSession(ALICE)
      expect(await store.create(session, opts())).toEqual([])
      expect(await store.get(session.id, Date.now())).toEqual(session)
      expect(await (await sut.other()).get(session.id, Date.now())).toEqual(session)
      expect(await store.get(loginSession(ALICE).id, Date.now())).toBeNull()
      expect(await store.live([session.id, 'unknown'], Date.now())).toEqual(new Set([session.id]))
    })

    it('refuses a second session with the same id', async () => {
      const session = loginSession(ALICE)
      await store.create(session, opts())
      await expect(store.create({ ...session, tokens: 'other' }, opts())).rejects.toThrow()
      expect((await store.get(session.id, Date.now()))?.tokens).toBe(session.tokens)
    })

    it('survives a restart', async () => {
      const kept = loginSession(ALICE)
      const ended = loginSession(ALICE)
      await store.create(kept, opts())
      await store.create(ended, opts())
      await store.end([ended.id])
      const reopened = await sut.reopen()
      expect(await reopened.get(kept.id, Date.now())).toEqual(kept)
      expect(await reopened.get(ended.id, Date.now())).toBeNull()
    })

    it('updates atomically, never brings back an ended session, and leaves it when asked', async () => {
      const session = loginSession(ALICE)
      await store.create(session, opts())
      const other = await sut.other()
      // Concurrent read-decide-writes from two handles: none is lost.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : store).update(session.id, Date.now(), (s) => ({
            ...s,
            lastSeenAt: s.lastSeenAt + 1,
          })),
        ),
      )
      expect((await store.get(session.id, Date.now()))?.lastSeenAt).toBe(session.lastSeenAt + 20)
      const unchanged = await store.update(session.id, Date.now(), () => undefined)
      expect(unchanged?.lastSeenAt).toBe(session.lastSeenAt + 20)
      await store.end([session.id])
      let called = false
      const after = await other.update(session.id, Date.now(), (s) => {
        called = true
        return s
      })
      expect(after).toBeNull()
      expect(called).toBe(false)
      expect(await store.get(session.id, Date.now())).toBeNull()
    })

    it('ends sessions on every handle at once and announces them to every watcher', async () => {
      const a = loginSession(ALICE)
      const b = loginSession(ALICE)
      const c = loginSession(BOB)
      for (const s of [a, b, c]) await store.create(s, opts())
      const other = await sut.other()
      const heardHere: (string[] | null)[] = []
      const heardThere: (string[] | null)[] = []
      store.watch((ids) => heardHere.push(ids))
      other.watch((ids) => heardThere.push(ids))
      await sut.watching()
      const ended = await other.end([a.id, b.id, 'unknown'])
      expect(ended.map((s) => s.id).sort()).toEqual([a.id, b.id].sort())
      expect(await store.get(a.id, Date.now())).toBeNull()
      expect(await store.live([a.id, b.id, c.id], Date.now())).toEqual(new Set([c.id]))
      await until(() => heardHere.length > 0 && heardThere.length > 0, 'the notices')
      expect((heardHere[0] ?? []).slice().sort()).toEqual([a.id, b.id].sort())
      expect((heardThere[0] ?? []).slice().sort()).toEqual([a.id, b.id].sort())
      // Ending nothing announces nothing.
      expect(await store.end([a.id])).toEqual([])
      await new Promise((done) => setTimeout(done, 50))
      expect(heardHere).toHaveLength(1)
    })

    it('ends every session of one user (sign out everywhere), and only theirs', async () => {
      const mine = [loginSession(ALICE), loginSession(ALICE), loginSession(ALICE)]
      const bobs = loginSession(BOB)
      for (const s of [...mine, bobs]) await store.create(s, opts())
      const heard: string[] = []
      store.watch((ids) => heard.push(...(ids ?? [])))
      await sut.watching()
      const ended = await (await sut.other()).endUser(ALICE)
      expect(ended.map((s) => s.id).sort()).toEqual(mine.map((s) => s.id).sort())
      expect(
        await store.live(
          [...mine, bobs].map((s) => s.id),
          Date.now(),
        ),
      ).toEqual(new Set([bobs.id]))
      await until(() => heard.length === 3, 'the notice')
      expect(heard.sort()).toEqual(mine.map((s) => s.id).sort())
      expect(await store.endUser(ALICE)).toEqual([])
      // A user's sessions created afterwards are ended by the next sign-out everywhere too.
      const later = loginSession(ALICE)
      await store.create(later, opts())
      expect((await store.endUser(ALICE)).map((s) => s.id)).toEqual([later.id])
    })

    it('beyond the per-user limit, a new session ends the least recently used ones', async () => {
      const now = Date.now()
      const oldest = loginSession(ALICE, { lastSeenAt: now - 3000 }, now)
      const middle = loginSession(ALICE, { lastSeenAt: now - 2000 }, now)
      const recent = loginSession(ALICE, { lastSeenAt: now }, now)
      for (const s of [recent, oldest, middle]) await store.create(s, opts(3))
      const heard: string[] = []
      store.watch((ids) => heard.push(...(ids ?? [])))
      await sut.watching()
      // As recent as the most recent one: the new session itself is never the one to go.
      const newest = loginSession(ALICE, { lastSeenAt: now }, now)
      const pushedOut = await store.create(newest, opts(2))
      expect(pushedOut.map((s) => s.id).sort()).toEqual([oldest.id, middle.id].sort())
      expect(
        await store.live(
          [oldest, middle, recent, newest].map((s) => s.id),
          now,
        ),
      ).toEqual(new Set([recent.id, newest.id]))
      await until(() => heard.length === 2, 'the notice')
      // Another user's sessions do not count.
      expect(await store.create(loginSession(BOB), opts(2))).toEqual([])
    })

    it('an expired session is gone: not returned, not live, not kept', async () => {
      const now = Date.now()
      const short = loginSession(ALICE, { expiresAt: now + 300 }, now)
      const long = loginSession(ALICE, {}, now)
      await store.create(short, { maxPerUser: 10, now })
      await store.create(long, { maxPerUser: 10, now })
      expect(await store.get(short.id, Date.now())).not.toBeNull()
      await new Promise((done) => setTimeout(done, 400))
      expect(await store.get(short.id, Date.now())).toBeNull()
      expect(await store.update(short.id, Date.now(), (s) => s)).toBeNull()
      await store.sweep(Date.now())
      expect(await store.live([short.id, long.id], Date.now())).toEqual(new Set([long.id]))
      const reopened = await sut.reopen()
      expect(await reopened.get(short.id, 0)).toBeNull()
      expect(await reopened.get(long.id, Date.now())).not.toBeNull()
    })
  })
}
