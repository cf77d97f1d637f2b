import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RedisAttemptLimiter } from '../../src/server/redis-attempt-limiter.server'
import { RedisViewerPresence } from '../../src/server/redis-viewer-presence.server'

const url = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `test:viewers:${randomUUID()}:`
const admin = new Redis(url)
const logger = pino({ level: 'silent' })
const ROOM = 'room_viewers_1'
const OTHER = 'room_viewers_2'
const [A, B] = ['500000000000000001', '500000000000000002']

const open: { node: RedisViewerPresence; redis: Redis }[] = []

async function node(options: { heartbeatMs?: number; ttlMs?: number } = {}) {
  const redis = new Redis(url)
  const presence = new RedisViewerPresence({ redis, prefix, logger, ...options })
  await presence.start()
  open.push({ node: presence, redis })
  return presence
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

afterEach(async () => {
  for (const { node: n, redis } of open.splice(0)) {
    await n.stop()
    redis.disconnect()
  }
})
afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  admin.disconnect()
})

describe('viewer presence on Redis (several nodes)', () => {
  it('a page opened on one node is seen on the others at once, and so is its closing', async () => {
    const a = await node()
    const b = await node()
    expect(a.synced && b.synced).toBe(true)
    const seenOnB: string[] = []
    b.onChange((roomId) => seenOnB.push(roomId))
    a.open(ROOM, A)
    await until(() => b.isViewing(ROOM, A))
    expect(b.viewers(ROOM)).toEqual([A])
    expect(seenOnB).toEqual([ROOM])
    b.open(ROOM, B)
    await until(() => a.viewers(ROOM).length === 2)
    expect(a.viewers(ROOM)).toEqual([A, B])
    a.close(ROOM, A)
    await until(() => !b.isViewing(ROOM, A))
    expect(b.viewers(ROOM)).toEqual([B])
    expect(b.viewers(OTHER)).toEqual([])
  })

  it('the same user on two nodes stays here until both closed', async () => {
    const a = await node()
    const b = await node()
    a.open(ROOM, A)
    b.open(ROOM, A)
    await until(() => a.viewers(ROOM).length === 1 && b.viewers(ROOM).length === 1)
    const changes: string[] = []
    b.onChange((roomId) => changes.push(roomId))
    a.close(ROOM, A)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(b.isViewing(ROOM, A)).toBe(true)
    expect(changes).toEqual([])
  })

  it('a node that dies stops counting once its entry expires; a late joiner learns the rest at start', async () => {
    const a = await node({ heartbeatMs: 100, ttlMs: 400 })
    const dying = await node({ heartbeatMs: 100, ttlMs: 400 })
    dying.open(ROOM, B)
    await until(() => a.isViewing(ROOM, B))
    // A node that starts now reads the others' entries before it is synced.
    const late = await node({ heartbeatMs: 100, ttlMs: 400 })
    expect(late.isViewing(ROOM, B)).toBe(true)
    // The process dies: no goodbye, its heartbeats stop (its connection is cut).
    const dead = open.find((o) => o.node === dying)
    if (!dead) throw new Error('no such node')
    open.splice(open.indexOf(dead), 1)
    ;(dying as unknown as { stop(): Promise<void> }).stop = async () => {}
    dead.redis.disconnect()
    const changes: string[] = []
    a.onChange((roomId) => changes.push(roomId))
    await until(() => !a.isViewing(ROOM, B), 3000)
    expect(changes).toContain(ROOM)
    await until(() => !late.isViewing(ROOM, B), 3000)
  })

  it('a node leaving cleanly is gone for the others at once', async () => {
    const a = await node()
    const b = await node({ heartbeatMs: 60_000 })
    a.open(ROOM, A)
    await until(() => b.isViewing(ROOM, A))
    const entry = open.find((o) => o.node === a)
    if (!entry) throw new Error('no such node')
    open.splice(open.indexOf(entry), 1)
    await a.stop()
    entry.redis.disconnect()
    await until(() => !b.isViewing(ROOM, A), 1000)
  })
})

describe('attempt limiter on Redis', () => {
  it('shares a window across nodes and tells how long it has left', async () => {
    const one = new Redis(url)
    const two = new Redis(url)
    const limits = { limit: 3, windowMs: 60_000 }
    const a = new RedisAttemptLimiter({ redis: one, prefix: `${prefix}attempts:`, limits })
    const b = new RedisAttemptLimiter({ redis: two, prefix: `${prefix}attempts:`, limits })
    expect(await a.hit('user:1')).toEqual({ ok: true })
    expect(await b.hit('user:1')).toEqual({ ok: true })
    expect(await a.hit('user:1')).toEqual({ ok: true })
    const refused = await b.hit('user:1')
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.retryAfter).toBeGreaterThan(55)
    expect(await b.hit('user:2')).toEqual({ ok: true })
    one.disconnect()
    two.disconnect()
  })
})
