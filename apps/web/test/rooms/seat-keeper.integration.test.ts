import type { Player } from '@repo/discord-integration/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryViewerPresence } from '../../src/server/viewer-presence'
import { makeService, newActor, startWorld, tokenOf, until, type World } from './harness'

/**
 * Seats held through drops, end to end in the rooms layer: the keeper on a manual clock, who is
 * here from a ViewerPresence (pages) and the emulator's voice feed, the store, the published
 * room.updated frames and the Discord overwrites.
 */

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const GRACE = 10 * 60_000
const DROP = 5_000

async function table() {
  const viewers = new MemoryViewerPresence()
  const made = makeService(world, {
    viewers,
    seatTiming: { graceMs: GRACE, dropAfterMs: DROP },
  })
  const { service, clock, events } = made
  await service.start()
  const host = newActor(world, 'host')
  const room = await service.createRoom(host, 'held')
  const [b, c] = [newActor(world, 'b'), newActor(world, 'c')]
  await service.joinRoom(b, room.id, tokenOf(room.invite?.url))
  await service.joinRoom(c, room.id, tokenOf(room.invite?.url))
  for (const p of [host, b, c]) viewers.open(room.id, p.userId)
  /** Lets the keeper's zero-delay review run (its store write and frame follow: see `eventually`). */
  const settle = async () => {
    await clock.advance(0)
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  const players = async (): Promise<Player[]> =>
    (await service.getRoom(host, room.id).catch(() => service.getRoom(b, room.id))).players
  const held = async (userId: string) =>
    (await players()).find((p) => p.userId === userId)?.heldUntil
  const overwrite = async (userId: string) =>
    world.emu.control.state().channels.some((ch) => ch.id === room.channelId) &&
    (await world.discord.listChannels()).length >= 0 &&
    (
      (await world.rest.get(`/channels/${room.channelId}`)) as {
        permission_overwrites?: { id: string }[]
      }
    ).permission_overwrites?.some((o) => o.id === userId)
  const stateFrames = () =>
    events.published.filter((p) => p.roomId === room.id && p.frame.type === 'room.updated')
  /** The players of the last room.updated (the keeper publishes after it has planned ahead). */
  const told = () => {
    const frame = stateFrames().at(-1)?.frame
    return frame?.type === 'room.updated' ? frame.state.players : []
  }
  /** Waits until the last room.updated shows the user dropped (or back, or gone). */
  const toldHeld = (userId: string) =>
    eventually(() => told().find((p) => p.userId === userId)?.heldUntil !== undefined)
  return {
    ...made,
    viewers,
    host,
    b,
    c,
    room,
    settle,
    players,
    held,
    overwrite,
    stateFrames,
    told,
    toldHeld,
  }
}

/** Polls an async condition (a review's store write and frames take a few turns). */
async function eventually(check: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('seats held through drops', () => {
  it('a drop inside the grace: held (and told), then restored silently when the page is back', async () => {
    const t = await table()
    const before = t.stateFrames().length
    t.viewers.close(t.room.id, t.b.userId)
    await t.settle()
    expect(await t.held(t.b.userId)).toBeUndefined()
    await t.clock.advance(DROP)
    await t.toldHeld(t.b.userId)
    const heldUntil = await t.held(t.b.userId)
    expect(heldUntil).toBe(t.clock.now() + GRACE)
    expect(t.stateFrames().length).toBe(before + 1)
    expect(t.stateFrames().at(-1)?.frame).toMatchObject({
      state: { players: [{}, { userId: t.b.userId, heldUntil }, {}] },
    })
    await t.clock.advance(9 * 60_000)
    t.viewers.open(t.room.id, t.b.userId)
    await t.settle()
    await eventually(() => t.stateFrames().length === before + 2)
    expect(await t.held(t.b.userId)).toBeUndefined()
    expect(t.told().find((p) => p.userId === t.b.userId)?.heldUntil).toBeUndefined()
    expect((await t.players()).map((p) => p.userId)).toEqual([
      t.host.userId,
      t.b.userId,
      t.c.userId,
    ])
    expect(await t.overwrite(t.b.userId)).toBe(true)
    t.service.stop()
  })

  it('being in the room’s voice channel counts as here, page or not', async () => {
    const t = await table()
    world.emu.control.setVoice({ userId: t.c.userId, channelId: t.room.channelId })
    await until(() => world.feed.memberChannel(t.c.userId) === t.room.channelId)
    t.viewers.close(t.room.id, t.c.userId)
    await t.settle()
    await t.clock.advance(DROP + 1000)
    await t.settle()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await t.held(t.c.userId)).toBeUndefined()
    world.emu.control.setVoice({ userId: t.c.userId, channelId: null })
    await until(() => world.feed.memberChannel(t.c.userId) === null)
    await t.settle()
    await t.clock.advance(DROP)
    await t.toldHeld(t.c.userId)
    t.service.stop()
  })

  it('past the grace the seat is freed, with its channel access; the others keep theirs', async () => {
    const t = await table()
    t.viewers.close(t.room.id, t.c.userId)
    await t.settle()
    await t.clock.advance(DROP)
    await t.toldHeld(t.c.userId)
    await t.clock.advance(GRACE - 1)
    await t.settle()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await t.players()).map((p) => p.userId)).toContain(t.c.userId)
    await t.clock.advance(1)
    await eventually(async () => (await t.players()).length === 2)
    expect((await t.players()).map((p) => p.userId)).toEqual([t.host.userId, t.b.userId])
    await eventually(async () => (await t.overwrite(t.c.userId)) === false)
    t.service.stop()
  })

  it('the host’s held seat expiring hands the room to the longest-seated player who is here', async () => {
    const t = await table()
    t.viewers.close(t.room.id, t.host.userId)
    await t.settle()
    await t.clock.advance(DROP)
    await t.toldHeld(t.host.userId)
    await t.clock.advance(GRACE)
    await eventually(async () => (await t.service.getRoom(t.b, t.room.id)).ownerId === t.b.userId)
    const room = await t.service.getRoom(t.b, t.room.id)
    expect(room.ownerId).toBe(t.b.userId)
    expect(room.players.map((p) => p.userId)).toEqual([t.b.userId, t.c.userId])
    t.service.stop()
  })

  it('the host frees a dropped seat early; not a seat whose player is here', async () => {
    const t = await table()
    await expect(t.service.freeSeat(t.host, t.room.id, t.b.userId)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    t.viewers.close(t.room.id, t.b.userId)
    await t.settle()
    await t.clock.advance(DROP)
    await t.toldHeld(t.b.userId)
    await expect(t.service.freeSeat(t.c, t.room.id, t.b.userId)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const after = await t.service.freeSeat(t.host, t.room.id, t.b.userId)
    expect(after.players.map((p) => p.userId)).toEqual([t.host.userId, t.c.userId])
    expect(await t.overwrite(t.b.userId)).toBe(false)
    t.service.stop()
  })

  it('only the leader holds seats, and nobody is judged before the viewers are known', async () => {
    let leader = false
    const viewers = new MemoryViewerPresence()
    const { service, clock } = makeService(world, { viewers, isLeader: () => leader })
    await service.start()
    const host = newActor(world, 'host')
    const room = await service.createRoom(host, 'follower')
    await clock.advance(60_000)
    expect((await service.sweep()).seats).toBeUndefined()
    await clock.advance(60_000)
    expect((await service.sweep()).seats).toBeUndefined()
    expect((await service.getRoom(host, room.id)).players[0]?.heldUntil).toBeUndefined()
    leader = true
    // The sweep's pass notes the host gone (a drop is confirmed only DROP later)...
    expect((await service.sweep()).seats).toBeUndefined()
    // ...which the keeper's own timer, or the next sweep, does.
    await clock.advance(DROP)
    const report = await service.sweep()
    await eventually(
      async () => (await service.getRoom(host, room.id)).players[0]?.heldUntil !== undefined,
    )
    expect(report.seats?.held ?? [host.userId]).toEqual([host.userId])
    service.stop()
  })

  it('a new name for a seated player in voice is stored and told once', async () => {
    const t = await table()
    world.emu.control.setVoice({ userId: t.b.userId, channelId: t.room.channelId })
    await until(() => world.feed.memberChannel(t.b.userId) === t.room.channelId)
    const before = t.stateFrames().length
    world.emu.control.updateUserProfile({ userId: t.b.userId, globalName: 'Brave B' })
    await until(() => t.stateFrames().length > before)
    expect((await t.players()).find((p) => p.userId === t.b.userId)?.globalName).toBe('Brave B')
    expect(t.stateFrames().length).toBe(before + 1)
    world.emu.control.setVoice({ userId: t.b.userId, channelId: null })
    t.service.stop()
  })
})
