import type { OAuthClient } from '@repo/discord-integration'
import { type RedisServer, startRedisServer, waitUntil } from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { LoginSessions, type SessionHolder } from '../../src/features/auth/login-sessions.server'
import { RedisLoginSessionStore } from '../../src/features/auth/redis-login-session-store.server'
import { SessionKeys } from '../../src/features/auth/session-keys.server'
import { logger, SECRET } from '../rooms/harness'

/**
 * Login sessions on a redis-server of the test's own that is killed and started again without
 * its data, as nodes see it: the real LoginSessions and RedisLoginSessionStore, each node on its
 * own connection, with the presence service's part played by a holder of session ids.
 */
const PREFIX = 'tv-loss:'
const RECHECK_MS = 200
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

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
const tokens = () => ({
  accessToken: 'access',
  refreshToken: 'refresh',
  expiresAt: Date.now() + 3_600_000,
})

/** A holder of sessions (a node's open sockets) that records what it was told to end. */
function holder(ids: string[]): SessionHolder & { ended: string[] } {
  const h = {
    ended: [] as string[],
    sessionIds: () => ids.filter((id) => !h.ended.includes(id)),
    endSessions: (gone: readonly string[]) => {
      h.ended.push(...gone.filter((id) => ids.includes(id)))
    },
  }
  return h
}

/** A web node's sessions: its own connection, store and LoginSessions, as the runtime wires them. */
async function node(server: RedisServer) {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  const store = new RedisLoginSessionStore(redis, PREFIX)
  const sessions = new LoginSessions({
    store,
    keys: new SessionKeys(SECRET),
    oauth,
    now: () => Date.now(),
    logger,
    recheckIntervalMs: RECHECK_MS,
  })
  await sessions.start()
  cleanups.push(async () => {
    await sessions.stop()
    await store.close()
    redis.disconnect()
  })
  return { redis, sessions }
}

describe('login sessions when Redis restarts empty', () => {
  it('each node writes back the sessions it holds, so nobody is signed out and no socket closes; what no node holds, or what had ended, stays gone', async () => {
    const server = await startRedisServer()
    cleanups.push(() => server.stop())
    const a = await node(server)
    const b = await node(server)
    // Alice signed in on node A, Bob on node B; each has a socket open on its node.
    const alice = await a.sessions.create(user(1), tokens())
    const bob = await b.sessions.create(user(2), tokens())
    // Carol's session was seen by no running node lately (its node is gone): nobody can restore it.
    const gone = await node(server)
    const carol = await gone.sessions.create(user(3), tokens())
    await gone.sessions.stop()
    // Dave signed out before the loss: it must not come back.
    const dave = await a.sessions.create(user(4), tokens())
    await a.sessions.end([dave.session.id], { revokeDiscord: false })
    const onA = holder([alice.session.id])
    const onB = holder([bob.session.id, carol.session.id])
    a.sessions.attach(onA)
    b.sessions.attach(onB)

    await server.kill()
    await server.start()

    // The nodes notice the loss (their watch reconnects, or their next check) and write back.
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 })
    cleanups.push(() => admin.quit().then(() => undefined))
    await waitUntil(
      async () =>
        (await admin.exists(`${PREFIX}login-session:${alice.session.id}`)) === 1 &&
        (await admin.exists(`${PREFIX}login-session:${bob.session.id}`)) === 1,
      10_000,
      'both nodes to write back their sessions',
    )
    // Several checks later, on both nodes:
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 5))
    expect(onA.ended).toEqual([])
    expect(onB.ended).toEqual([carol.session.id])
    // Each session works on either node (B reads Alice's from the store, A reads Bob's).
    expect(await b.sessions.lookup(alice.cookieValue)).toMatchObject({ state: 'active' })
    expect(await a.sessions.lookup(bob.cookieValue)).toMatchObject({ state: 'active' })
    expect(await b.sessions.lookup(carol.cookieValue)).toMatchObject({ state: 'ended' })
    expect(await a.sessions.lookup(dave.cookieValue)).toMatchObject({ state: 'ended' })
    expect(await admin.exists(`${PREFIX}login-session:${dave.session.id}`)).toBe(0)
    // Restored with their user index (sign out everywhere still finds them) and their expiry.
    expect(await admin.smembers(`${PREFIX}user-login-sessions:${user(1).userId}`)).toEqual([
      alice.session.id,
    ])
    const ttl = await admin.pttl(`${PREFIX}login-session:${alice.session.id}`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(alice.session.expiresAt - Date.now() + 1_000)
    // Signing out after the loss still ends the session everywhere.
    await b.sessions.endUser(user(1).userId, { revokeDiscord: false })
    await waitUntil(() => onA.ended.includes(alice.session.id), 5_000, 'A to close the socket')
  }, 60_000)

  it('an outage that keeps the data (redis-server frozen) writes nothing back and ends nothing', async () => {
    const server = await startRedisServer()
    cleanups.push(() => server.stop())
    const a = await node(server)
    const alice = await a.sessions.create(user(1), tokens())
    const onA = holder([alice.session.id])
    a.sessions.attach(onA)
    // While Redis is frozen the node cannot check anything; it keeps the socket.
    server.process.pause()
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 5))
    server.process.resume()
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 5))
    expect(onA.ended).toEqual([])
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 })
    cleanups.push(() => admin.quit().then(() => undefined))
    // Deleted behind the store's back (not a loss: the store's life marker is still there), the
    // session counts as ended at the next check, and nothing writes it back.
    await admin.del(`${PREFIX}login-session:${alice.session.id}`)
    await waitUntil(() => onA.ended.includes(alice.session.id), 5_000, 'A to close the socket')
    expect(await admin.exists(`${PREFIX}login-session:${alice.session.id}`)).toBe(0)
  }, 60_000)
})
