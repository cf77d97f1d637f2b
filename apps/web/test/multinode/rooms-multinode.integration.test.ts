import { ROOM_IDLE_MS } from '@repo/discord-integration/contracts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { newActor, startWorld, tokenOf, until, type World } from '../rooms/harness'
import { ManualClock } from '../support/manual-clock'
import { type Node, startNode, testPrefix } from './nodes'

let world: World
let nodes: Node[] = []
let run: ReturnType<typeof testPrefix>

beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world.close()
})
/** Worlds a test started for itself. */
let worlds: World[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.close()))
  nodes = []
  await run?.cleanup()
  await Promise.all(worlds.map((w) => w.close()))
  worlds = []
})

/** Two nodes on one Redis prefix and one clock; A leads unless told otherwise. */
async function twoNodes(options: { aLeads?: boolean; orphanGraceMs?: number } = {}) {
  run = testPrefix()
  const clock = new ManualClock(Date.now())
  const aLeads = options.aLeads ?? true
  const orphanGraceMs = options.orphanGraceMs ?? 0
  const a = await startNode(world, run.prefix, clock, { isLeader: () => aLeads, orphanGraceMs })
  const b = await startNode(world, run.prefix, clock, { isLeader: () => !aLeads, orphanGraceMs })
  nodes.push(a, b)
  return { a, b, clock }
}

describe('room cache coherence across nodes (Redis store notifications)', () => {
  it('a room created, joined, kicked from and closed on A is seen on B', async () => {
    const { a, b } = await twoNodes()
    const owner = newActor(world, 'mn')
    const guest = newActor(world, 'mn')
    const room = await a.service.createRoom(owner, 'coherent')
    await until(() => b.service.roomForChannel(room.channelId) === room.id)
    expect(b.service.roomAccess(room.id, owner.userId)?.channelId).toBe(room.channelId)
    expect(b.service.roomAccess(room.id, guest.userId)).toBeNull()

    await a.service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await until(() => b.service.roomAccess(room.id, guest.userId) !== null)
    expect(b.service.roomAccess(room.id, guest.userId)?.state.players).toHaveLength(2)

    await a.service.kickPlayer(owner, room.id, guest.userId)
    await until(() => b.service.roomAccess(room.id, guest.userId) === null)
    expect(b.service.roomAccess(room.id, owner.userId)).not.toBeNull()

    await a.service.closeRoom(owner, room.id)
    await until(() => b.service.roomForChannel(room.channelId) === null)
    expect(b.service.roomAccess(room.id, owner.userId)).toBeNull()
    expect(b.service.openRooms).toBe(0)
  })

  it('a full refresh repairs a cache that missed notifications, keeping newer local entries', async () => {
    const { a, b } = await twoNodes()
    const owner = newActor(world, 'mn')
    b.service.stop() // B stops listening: it misses the next changes
    const room = await a.service.createRoom(owner, 'missed')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(b.service.roomForChannel(room.channelId)).toBeNull()
    await b.service.refreshCache()
    expect(b.service.roomForChannel(room.channelId)).toBe(room.id)
    await a.service.closeRoom(owner, room.id)
    await b.service.refreshCache()
    expect(b.service.roomForChannel(room.channelId)).toBeNull()
  })
})

describe('the per-host room cap across nodes', () => {
  it('8 simultaneous creates by one user over two nodes open exactly 3 rooms and leave no stray channel', async () => {
    // A world of its own: this burst of channel calls must not use up the rate limits that the
    // other tests' world shares (they would wait out the window), and without those waits the
    // creations race as closely as they can.
    const own = await startWorld({ rateLimits: { route: { limit: 100, windowMs: 1000 } } })
    run = testPrefix()
    const clock = new ManualClock(Date.now())
    const a = await startNode(own, run.prefix, clock)
    const b = await startNode(own, run.prefix, clock, { isLeader: () => false })
    nodes.push(a, b)
    worlds.push(own)
    const owner = newActor(own, 'mn')
    const name = `cap-race-${owner.userId}`
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).service.createRoom(owner, name)),
    )
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))
    expect(created).toHaveLength(3)
    expect(refused.map((e) => e.code)).toEqual(Array(5).fill('TOO_MANY_ROOMS'))
    expect((await a.store.list()).filter((r) => r.ownerId === owner.userId)).toHaveLength(3)
    // A creation refused by the store gives its fresh channel back.
    const channels = (await own.discord.listChannels()).filter((c) => c.name === name)
    expect(channels.map((c) => c.id).sort()).toEqual(created.map((r) => r.channelId).sort())
  })
})

describe('cleanup leadership and activity across nodes', () => {
  it('a viewer only on node B keeps the room open: B marks it active, leader A does not warn', async () => {
    const { a, b, clock } = await twoNodes()
    const owner = newActor(world, 'mn')
    const watched = await a.service.createRoom(owner, 'watched on B')
    const idle = await a.service.createRoom(owner, 'idle everywhere')
    await until(() => b.service.openRooms === 2)
    b.events.viewers.set(watched.id, 1)

    await clock.advance(ROOM_IDLE_MS)
    await b.service.sweep()
    const report = await a.service.sweep()
    expect(report.warned).toEqual([idle.id])
    expect(a.events.types(watched.id)).not.toContain('room.closing')
    expect((await a.store.get(watched.id))?.lastActivityAt).toBe(clock.now())
  })

  it('a warning from the leader is cancelled when a follower reports viewers', async () => {
    const { a, b, clock } = await twoNodes()
    const owner = newActor(world, 'mn')
    const room = await a.service.createRoom(owner, 'late viewer')
    await until(() => b.service.openRooms === 1)
    await clock.advance(ROOM_IDLE_MS)
    expect((await a.service.sweep()).warned).toEqual([room.id])
    b.events.viewers.set(room.id, 1)
    expect((await b.service.sweep()).reopened).toEqual([room.id])
    expect(b.events.types(room.id)).toContain('room.updated')
    expect((await a.store.get(room.id))?.status).toBe('open')
    await clock.advance(60_000)
    expect(await a.service.sweep()).toEqual({ warned: [], closed: [], reopened: [] })
  })

  it('only the leader warns, closes and reconciles', async () => {
    const { a, b, clock } = await twoNodes({ aLeads: false })
    const owner = newActor(world, 'mn')
    const room = await a.service.createRoom(owner, 'follower A')
    await until(() => b.service.openRooms === 1)
    const orphan = await world.discord.createRoomChannel({
      name: 'orphan',
      parentId: (await a.store.get(room.id))?.categoryId ?? '',
      ownerId: owner.userId,
    })
    await clock.advance(ROOM_IDLE_MS)
    expect(a.service.nextDeadline()).toBeNull()
    expect(await a.service.sweep()).toEqual({ warned: [], closed: [], reopened: [] })
    expect(await a.service.reconcile()).toEqual({ deletedChannels: [], closedRooms: [] })
    const channelIds = async () => (await world.discord.listChannels()).map((c) => c.id)
    expect(await channelIds()).toContain(orphan)

    expect((await b.service.sweep()).warned).toEqual([room.id])
    await clock.advance(30_000)
    expect((await b.service.sweep()).closed).toEqual([room.id])
    await until(() => a.service.openRooms === 0)
    expect((await b.service.reconcile()).deletedChannels).toEqual([orphan])
  })

  it('the leader spares a fresh channel whose room another node has not stored yet', async () => {
    const { a, clock } = await twoNodes({ orphanGraceMs: 120_000 })
    const owner = newActor(world, 'mn')
    const room = await a.service.createRoom(owner, 'category')
    const fresh = await world.discord.createRoomChannel({
      name: 'being created elsewhere',
      parentId: (await a.store.get(room.id))?.categoryId ?? '',
      ownerId: owner.userId,
    })
    expect((await a.service.reconcile()).deletedChannels).toEqual([])
    await clock.advance(121_000)
    expect((await a.service.reconcile()).deletedChannels).toEqual([fresh])
  })
})
