import { Redis } from 'ioredis'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisViewerPresence } from '../../src/server/redis-viewer-presence.server'
import { newActor, startWorld, tokenOf, until, type World } from '../rooms/harness'
import { ManualClock } from '../support/manual-clock'
import { type Node, REDIS_URL, startNode, testPrefix } from './nodes'

/**
 * Seats held through drops with two nodes on Redis: a player's page is open on the follower,
 * the leader decides on it through the shared viewer presence, and a node that dies takes its
 * viewers with it once its entry expires.
 */

let world: World
let run: ReturnType<typeof testPrefix>
const closers: (() => Promise<void>)[] = []

beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world.close()
})
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await run?.cleanup()
})

const logger = pino({ level: 'silent' })
const DROP = 5_000
const GRACE = 60_000

async function viewersOn(prefix: string, options: { heartbeatMs?: number; ttlMs?: number } = {}) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  const viewers = new RedisViewerPresence({ redis, prefix, logger, ...options })
  await viewers.start()
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await viewers.stop()
    redis.disconnect()
  }
  closers.push(stop)
  /** Dies without a goodbye: no more heartbeats, nothing removed. */
  const die = () => {
    stopped = true
    redis.disconnect()
  }
  return { viewers, stop, die }
}

async function twoNodes() {
  run = testPrefix()
  const clock = new ManualClock(Date.now())
  const leaderViewers = await viewersOn(run.prefix, { heartbeatMs: 100, ttlMs: 400 })
  const followerViewers = await viewersOn(run.prefix, { heartbeatMs: 100, ttlMs: 400 })
  const seatTiming = { graceMs: GRACE, dropAfterMs: DROP }
  const leader: Node = await startNode(world, run.prefix, clock, {
    isLeader: () => true,
    viewers: leaderViewers.viewers,
    seatTiming,
  })
  const follower: Node = await startNode(world, run.prefix, clock, {
    isLeader: () => false,
    viewers: followerViewers.viewers,
    seatTiming,
  })
  closers.push(
    () => leader.close(),
    () => follower.close(),
  )
  return { leader, follower, clock, followerViewers, leaderViewers }
}

/** Reviews on the leader after a presence change (its keeper's turn, then its store write). */
async function reviewed(clock: ManualClock, check: () => Promise<boolean>) {
  await clock.advance(0)
  await until(() => true)
  const deadline = Date.now() + 3000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('not reviewed in time')
    await clock.advance(0)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('seats held through drops, several nodes', () => {
  it('a page open on the follower keeps the seat; closed there, the leader holds it', async () => {
    const { leader, follower, clock, followerViewers, leaderViewers } = await twoNodes()
    const host = newActor(world, 'mnseat')
    const guest = newActor(world, 'mnseat')
    const room = await leader.service.createRoom(host, 'two nodes')
    await leader.service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await until(() => follower.service.roomAccess(room.id, guest.userId) !== null)
    // Both pages are open on the follower only.
    followerViewers.viewers.open(room.id, host.userId)
    followerViewers.viewers.open(room.id, guest.userId)
    // The leader hears of them through Redis: a sweep before that would hold both seats.
    await until(
      () =>
        leaderViewers.viewers.isViewing(room.id, host.userId) &&
        leaderViewers.viewers.isViewing(room.id, guest.userId),
    )
    await clock.advance(DROP * 2)
    await leader.service.sweep()
    await clock.advance(DROP * 2)
    const kept = await leader.service.sweep()
    expect(kept.seats).toBeUndefined()
    expect((await leader.store.get(room.id))?.players.every((p) => p.heldUntil === undefined)).toBe(
      true,
    )
    // The guest's page closes on the follower: the leader hears of it and holds the seat.
    followerViewers.viewers.close(room.id, guest.userId)
    await until(() => !leaderViewers.viewers.isViewing(room.id, guest.userId))
    // The leader's keeper notes the absence now, and confirms it as a drop DROP later.
    await clock.advance(0)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await leader.store.get(room.id))?.players[1]?.heldUntil).toBeUndefined()
    await clock.advance(DROP)
    await reviewed(clock, async () =>
      Boolean((await leader.store.get(room.id))?.players[1]?.heldUntil),
    )
    // Back on the follower: restored.
    followerViewers.viewers.open(room.id, guest.userId)
    await reviewed(
      clock,
      async () => (await leader.store.get(room.id))?.players[1]?.heldUntil === undefined,
    )
  })

  it('a follower that dies takes its viewers with it: the leader holds their seats', async () => {
    const { leader, follower, clock, followerViewers } = await twoNodes()
    const host = newActor(world, 'mnseat')
    const room = await leader.service.createRoom(host, 'dying node')
    await until(() => follower.service.roomAccess(room.id, host.userId) !== null)
    followerViewers.viewers.open(room.id, host.userId)
    await until(() => leader.service.roomAccess(room.id, host.userId) !== null)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await clock.advance(DROP * 2)
    expect((await leader.service.sweep()).seats).toBeUndefined()
    followerViewers.die()
    // Its entry expires (ttl 400 ms), the leader's next resync drops its viewers.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    await clock.advance(0)
    await clock.advance(DROP)
    await reviewed(clock, async () =>
      Boolean((await leader.store.get(room.id))?.players[0]?.heldUntil),
    )
  })
})
