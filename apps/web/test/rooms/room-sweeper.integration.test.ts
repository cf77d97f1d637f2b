import type { RoomView } from '@repo/discord-integration/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import type { RoomStore } from '../../src/features/rooms/room-store'
import { SWEEP_BATCH } from '../../src/features/rooms/room-sweeper.server'
import { makeService, newActor, startWorld, until, type World } from './harness'
import { roomRecord } from './room-fixtures'

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const channelExists = (id: string) => world.emu.control.state().channels.some((c) => c.id === id)

describe('cleanup with a controllable clock', () => {
  it('warns 30 s before closing an idle room, then deletes it; repeated sweeps do nothing', async () => {
    const { service, clock, events } = makeService(world)
    await service.start()
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'idle')
    await clock.advance(60 * 60 * 1000 - 31_000)
    expect((await service.sweep()).warned).toEqual([])
    await clock.advance(1000)
    expect((await service.sweep()).warned).toEqual([room.id])
    const closing = events.published.find(
      (p) => p.roomId === room.id && p.frame.type === 'room.closing',
    )
    expect(closing?.frame).toEqual({
      type: 'room.closing',
      closesAt: room.createdAt + 60 * 60 * 1000,
    })
    expect((await service.getRoom(owner, room.id)).status).toBe('closing')
    await clock.advance(29_000)
    expect((await service.sweep()).closed).toEqual([])
    await clock.advance(1000)
    expect((await service.sweep()).closed).toEqual([room.id])
    expect(channelExists(room.channelId)).toBe(false)
    expect(events.published.at(-1)).toEqual({
      roomId: room.id,
      frame: { type: 'room.deleted', reason: 'inactive' },
    })
    expect(await service.sweep()).toEqual({ warned: [], closed: [], reopened: [] })
    expect(events.types(room.id).filter((t) => t === 'room.deleted')).toHaveLength(1)
    service.stop()
  })

  it('a viewer or someone in voice cancels the warning (room.updated) and keeps the room', async () => {
    const { service, clock, events } = makeService(world)
    await service.start()
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'rescued')
    await clock.advance(60 * 60 * 1000 - 30_000)
    expect((await service.sweep()).warned).toEqual([room.id])
    events.viewers.set(room.id, 1)
    expect((await service.sweep()).reopened).toEqual([room.id])
    expect(events.published.at(-1)?.frame).toMatchObject({
      type: 'room.updated',
      state: { status: 'open', closesAt: null },
    })
    events.viewers.delete(room.id)
    await clock.advance(60 * 60 * 1000 - 31_000)
    expect(await service.sweep()).toEqual({ warned: [], closed: [], reopened: [] })
    // voice activity in the channel counts too
    world.emu.control.setVoice({ userId: owner.userId, channelId: room.channelId })
    await until(() => world.feed.memberChannel(owner.userId) === room.channelId)
    await clock.advance(2 * 60 * 60 * 1000)
    const report = await service.sweep()
    expect(report.closed).toEqual([])
    expect(report.warned).toEqual([])
    expect(channelExists(room.channelId)).toBe(true)
    world.emu.control.setVoice({ userId: owner.userId, channelId: null })
    await service.closeRoom(owner, room.id)
    service.stop()
  })

  it('writes voice activity in batches (one file write for many rooms) and reopens a closing room at once', async () => {
    const store = new FileRoomStore(`${world.dir}/activity-${Date.now()}.json`)
    const { service, clock, events } = makeService(world, { store, activityFlushMs: 5_000 })
    await service.start()
    const owners = Array.from({ length: 5 }, () => newActor(world, 'busy'))
    const rooms: RoomView[] = []
    for (const owner of owners) rooms.push(await service.createRoom(owner, 'busy room'))
    const storedActivity = async () =>
      Promise.all(rooms.map(async (r) => (await store.get(r.id))?.lastActivityAt))
    const createdAt = await storedActivity()

    // Within a minute of the last write, activity is not written again.
    await clock.advance(61_000)
    let writes = store.writes
    for (const [i, owner] of owners.entries()) {
      world.emu.control.setVoice({ userId: owner.userId, channelId: rooms[i]?.channelId ?? null })
    }
    await until(() =>
      owners.every((o, i) => world.feed.memberChannel(o.userId) === rooms[i]?.channelId),
    )
    expect(await storedActivity()).toEqual(createdAt)
    await clock.advance(5_000)
    await until(() => store.writes > writes)
    await store.close()
    expect(store.writes - writes).toBe(1)
    expect(await storedActivity()).toEqual(rooms.map(() => clock.now()))

    // The sweep touches the five active rooms together too: one write, not five.
    await clock.advance(61_000)
    writes = store.writes
    await service.sweep()
    await store.close()
    expect(store.writes - writes).toBe(1)
    expect(await storedActivity()).toEqual(rooms.map(() => clock.now()))

    // Leaving is activity as well; then the first room goes idle and is warned...
    for (const owner of owners)
      world.emu.control.setVoice({ userId: owner.userId, channelId: null })
    await until(() => owners.every((o) => world.feed.memberChannel(o.userId) === null))
    await clock.advance(60 * 60 * 1000 - 30_000)
    const [first] = rooms
    if (!first) throw new Error('no room')
    expect((await service.sweep()).warned).toContain(first.id)
    // ...and a voice join cancels the warning without waiting for the batch.
    world.emu.control.setVoice({ userId: owners[0]?.userId ?? '', channelId: first.channelId })
    await until(() =>
      events.published.some(
        (p) =>
          p.roomId === first.id &&
          p.frame.type === 'room.updated' &&
          p.frame.state.status === 'open',
      ),
    )
    expect((await store.get(first.id))?.status).toBe('open')
    world.emu.control.setVoice({ userId: owners[0]?.userId ?? '', channelId: null })
    for (const [i, room] of rooms.entries()) {
      const owner = owners[i]
      if (owner) await service.closeRoom(owner, room.id)
    }
    service.stop()
  })

  it('a pass over many rooms yields to the event loop between batches and reads the voice state once', async () => {
    const store = new FileRoomStore(`${world.dir}/many-${Date.now()}.json`)
    const count = SWEEP_BATCH * 2 + 10
    const now = Date.now()
    // Open rooms, active a moment ago, whose channels nobody is in: nothing is due.
    await Promise.all(
      Array.from({ length: count }, () =>
        store.insert(roomRecord({ createdAt: now, lastActivityAt: now, inviteExpiresAt: now + 1 })),
      ),
    )
    let voiceReadyCalls = 0
    const { service } = makeService(world, {
      store,
      voiceReady: () => {
        voiceReadyCalls++
        return true
      },
    })
    await service.start()
    // Timers and I/O callbacks queued before the pass run in its middle, not after it.
    let ranDuringPass = false
    const pass = service.sweep().then((report) => ({ report, ranDuringPass }))
    setImmediate(() => {
      ranDuringPass = true
    })
    const { report, ranDuringPass: sawTurn } = await pass
    expect(sawTurn).toBe(true)
    expect(report).toEqual({ warned: [], closed: [], reopened: [] })
    expect(voiceReadyCalls).toBe(1)
    service.stop()
  })

  it("a pass writes the activity of many busy rooms a batch per turn, in the store's coalesced writes", async () => {
    const file = new FileRoomStore(`${world.dir}/busy-${Date.now()}.json`)
    const count = SWEEP_BATCH * 2 + 10
    const now = Date.now()
    const rooms = Array.from({ length: count }, () =>
      roomRecord({ createdAt: now, lastActivityAt: now - 61_000, inviteExpiresAt: now + 1 }),
    )
    await Promise.all(rooms.map((room) => file.insert(room)))
    const writesBefore = file.writes
    // Counts the activity writes started in each turn of the event loop.
    let turn = 0
    let ticking = true
    const tick = () => {
      turn++
      if (ticking) setImmediate(tick)
    }
    setImmediate(tick)
    const perTurn = new Map<number, number>()
    const store: RoomStore = {
      get: (id) => file.get(id),
      list: () => file.list(),
      insert: (room) => file.insert(room),
      mutate: (id, fn) => {
        perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1)
        return file.mutate(id, fn)
      },
      listCategories: (guildId) => file.listCategories(guildId),
      addCategory: (id, guildId) => file.addCategory(id, guildId),
      removeCategory: (id) => file.removeCategory(id),
      close: () => file.close(),
    }
    const { service, events } = makeService(world, { store })
    await service.start()
    for (const room of rooms) events.viewers.set(room.id, 1)
    await service.sweep()
    ticking = false
    expect([...perTurn.values()].reduce((a, b) => a + b, 0)).toBe(count)
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(SWEEP_BATCH)
    expect(file.writes - writesBefore).toBeLessThanOrEqual(2)
    for (const room of rooms)
      expect((await file.get(room.id))?.lastActivityAt).toBeGreaterThan(now - 1000)
    service.stop()
  })

  it('never closes rooms while voice presence is unknown (feed not ready)', async () => {
    const { service, clock } = makeService(world, { voiceReady: () => false })
    await service.start()
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'unknown voice')
    await clock.advance(3 * 60 * 60 * 1000)
    expect((await service.sweep()).warned).toEqual([])
    expect(channelExists(room.channelId)).toBe(true)
    service.stop()
  })
})
