import type { RoomView } from '@repo/discord-integration/contracts'
import { type APIGuildVoiceChannel, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLAYER_ALLOW } from '../../src/features/rooms/discord-rooms.server'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { InviteTokens } from '../../src/features/rooms/invite-token.server'
import { SWEEP_BATCH } from '../../src/features/rooms/room-service.server'
import type { RoomStore } from '../../src/features/rooms/room-store'
import {
  makeService,
  newActor,
  PUBLIC_URL,
  SECRET,
  startWorld,
  tokenOf,
  until,
  type World,
} from './harness'
import { roomRecord } from './room-fixtures'

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const channelExists = (id: string) => world.emu.control.state().channels.some((c) => c.id === id)
const getChannel = (id: string) =>
  world.rest.get(Routes.channel(id)) as Promise<APIGuildVoiceChannel>
const lobby = () => {
  const ch = world.emu.control
    .state()
    .channels.find((c) => c.type === 2 && !c.name.startsWith('Table Voice'))
  if (!ch) throw new Error('the emulator world needs a voice channel')
  return ch.id
}

describe('RoomService against the Discord emulator', () => {
  it('creates a private voice channel: @everyone denied, owner allowed, limit 4, in our category', async () => {
    const { service } = makeService(world)
    const owner = newActor(world, 'owner')
    const room = await service.createRoom(owner, 'Friday Commander')
    expect(room).toMatchObject({
      name: 'Friday Commander',
      ownerId: owner.userId,
      maxPlayers: 4,
      status: 'open',
    })
    expect(room.players.map((p) => p.userId)).toEqual([owner.userId])
    expect(room.invite?.url.startsWith(`${PUBLIC_URL}/rooms/${room.id}/join?t=`)).toBe(true)
    expect(room.voiceJoinUrl).toBe(
      `${world.emu.webUrl}/channels/${world.emu.guildId}/${room.channelId}`,
    )
    const channel = await getChannel(room.channelId)
    expect(channel.user_limit).toBe(4)
    const overwrites = channel.permission_overwrites ?? []
    const everyone = overwrites.find((o) => o.id === world.emu.guildId)
    expect(BigInt(everyone?.deny ?? '0') & 1049600n).toBe(1049600n)
    expect(overwrites.find((o) => o.id === owner.userId)?.allow).toBe(PLAYER_ALLOW)
    expect(overwrites.some((o) => o.id === world.emu.botUserId)).toBe(true)
    const parent = world.emu.control.state().channels.find((c) => c.id === channel.parent_id)
    expect(parent?.type).toBe(4)
    expect(parent?.name.startsWith('Table Voice rooms')).toBe(true)
    // the owner was added to the guild with their OAuth token
    expect(world.emu.control.state().users.find((u) => u.id === owner.userId)?.member).toBe(true)
  })

  it('getRoom: players only; unknown room is ROOM_NOT_FOUND', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'r')
    await expect(service.getRoom(owner, room.id)).resolves.toMatchObject({ id: room.id })
    await expect(service.getRoom(newActor(world), room.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
    })
    await expect(service.getRoom(owner, 'no_such_room_1')).rejects.toMatchObject({
      code: 'ROOM_NOT_FOUND',
      status: 404,
    })
  })

  it('joinRoom: adds to the guild, grants the channel, reports not_in_voice; joining again is a no-op', async () => {
    const { service, events } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'r')
    const guest = newActor(world, 'guest')
    const { room: joined, voice } = await service.joinRoom(
      guest,
      room.id,
      tokenOf(room.invite?.url),
    )
    expect(joined.players.map((p) => p.userId)).toEqual([owner.userId, guest.userId])
    expect(voice.status).toBe('not_in_voice')
    expect(voice.joinUrl).toBe(room.voiceJoinUrl)
    const channel = await getChannel(room.channelId)
    expect(channel.permission_overwrites?.find((o) => o.id === guest.userId)?.allow).toBe(
      PLAYER_ALLOW,
    )
    expect(world.emu.control.state().users.find((u) => u.id === guest.userId)?.member).toBe(true)
    expect(events.types(room.id)).toContain('room.updated')
    const again = await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    expect(again.room.players).toHaveLength(2)
    expect(service.roomAccess(room.id, guest.userId)?.channelId).toBe(room.channelId)
    expect(service.roomForChannel(room.channelId)).toBe(room.id)
  })

  it('rejects bad, foreign, rotated and expired invites', async () => {
    const { service, clock } = makeService(world)
    const owner = newActor(world)
    const a = await service.createRoom(owner, 'a')
    const b = await service.createRoom(owner, 'b')
    const guest = newActor(world)
    await expect(service.joinRoom(guest, a.id, 'not-a-token-at-all')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
      status: 400,
    })
    await expect(service.joinRoom(guest, a.id, tokenOf(b.invite?.url))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    })
    await expect(service.rotateInvite(guest, a.id)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const rotated = await service.rotateInvite(owner, a.id)
    expect(rotated.invite?.url).not.toBe(a.invite?.url)
    await expect(service.joinRoom(guest, a.id, tokenOf(a.invite?.url))).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
      status: 410,
    })
    await clock.advance(24 * 3600 * 1000 + 1000)
    await expect(service.joinRoom(guest, a.id, tokenOf(rotated.invite?.url))).rejects.toMatchObject(
      { code: 'TOKEN_EXPIRED' },
    )
    // the owner's room page hands out a fresh link once the old one expired
    const fresh = await service.getRoom(owner, a.id)
    await expect(service.joinRoom(guest, a.id, tokenOf(fresh.invite?.url))).resolves.toBeTruthy()
    await expect(service.previewInvite(a.id, tokenOf(fresh.invite?.url))).resolves.toMatchObject({
      name: 'a',
      players: 2,
    })
  })

  it('five simultaneous joins into a room of three: exactly one succeeds, four get ROOM_FULL', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'race')
    const token = tokenOf(room.invite?.url)
    await service.joinRoom(newActor(world), room.id, token)
    await service.joinRoom(newActor(world), room.id, token)
    const racers = Array.from({ length: 5 }, () => newActor(world, 'racer'))
    const results = await Promise.allSettled(racers.map((r) => service.joinRoom(r, room.id, token)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(rejected.map((r) => r.reason.code)).toEqual([
      'ROOM_FULL',
      'ROOM_FULL',
      'ROOM_FULL',
      'ROOM_FULL',
    ])
    expect(rejected[0]?.reason.status).toBe(409)
    expect((await service.getRoom(owner, room.id)).players).toHaveLength(4)
  })

  it('connectVoice moves a user who is in another voice channel within 2 s', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'voice')
    await expect(service.connectVoice(owner, room.id)).resolves.toMatchObject({
      status: 'not_in_voice',
    })
    world.emu.control.setVoice({ userId: owner.userId, channelId: lobby() })
    await until(() => world.feed.memberChannel(owner.userId) === lobby())
    const started = Date.now()
    await expect(service.connectVoice(owner, room.id)).resolves.toMatchObject({ status: 'moved' })
    await until(() => world.feed.memberChannel(owner.userId) === room.channelId, 2000)
    expect(Date.now() - started).toBeLessThan(2000)
    await expect(service.connectVoice(owner, room.id)).resolves.toMatchObject({
      status: 'already_in_channel',
    })
    await expect(service.connectVoice(newActor(world), room.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    world.emu.control.setVoice({ userId: owner.userId, channelId: null })
  })

  it('createRoom caps the open rooms one user hosts (each is a Discord channel)', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    for (let i = 0; i < 3; i++) await service.createRoom(owner, `cap ${i}`)
    await expect(service.createRoom(owner, 'one too many')).rejects.toMatchObject({
      code: 'TOO_MANY_ROOMS',
      status: 409,
    })
    const [first] = await service.listMyRooms(owner)
    if (!first) throw new Error('no room')
    await service.closeRoom(owner, first.id)
    await expect(service.createRoom(owner, 'room again')).resolves.toMatchObject({
      name: 'room again',
    })
  })

  it('kickPlayer (owner only) removes the seat, the overwrite and the voice connection', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'kick')
    const guest = newActor(world)
    await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    world.emu.control.setVoice({ userId: guest.userId, channelId: room.channelId })
    await until(() => world.feed.memberChannel(guest.userId) === room.channelId)
    await expect(service.kickPlayer(guest, room.id, owner.userId)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    await expect(service.kickPlayer(owner, room.id, owner.userId)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    const after = await service.kickPlayer(owner, room.id, guest.userId)
    expect(after.players.map((p) => p.userId)).toEqual([owner.userId])
    const channel = await getChannel(room.channelId)
    expect(channel.permission_overwrites?.some((o) => o.id === guest.userId)).toBe(false)
    await until(() => world.feed.memberChannel(guest.userId) === null)
    await expect(service.getRoom(guest, room.id)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    // The link they came in with no longer works; the owner's new one does.
    await expect(service.joinRoom(guest, room.id, tokenOf(room.invite?.url))).rejects.toMatchObject(
      { code: 'TOKEN_EXPIRED' },
    )
    expect(after.invite?.url).not.toBe(room.invite?.url)
    const rejoined = await service.joinRoom(guest, room.id, tokenOf(after.invite?.url))
    expect(rejoined.room.players.map((p) => p.userId)).toContain(guest.userId)
  })

  it('leaveRoom hands the room on; the last player leaving closes it', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'leave')
    const guest = newActor(world)
    await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await service.leaveRoom(owner, room.id)
    const view = await service.getRoom(guest, room.id)
    expect(view.ownerId).toBe(guest.userId)
    expect(view.players.map((p) => p.userId)).toEqual([guest.userId])
    await service.leaveRoom(guest, room.id)
    expect(channelExists(room.channelId)).toBe(false)
  })

  it('closeRoom: owner only, deletes the channel, publishes room.deleted, idempotent', async () => {
    const { service, events } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'close')
    const guest = newActor(world)
    await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await expect(service.closeRoom(guest, room.id)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await service.closeRoom(owner, room.id)
    expect(channelExists(room.channelId)).toBe(false)
    expect(
      events.published.filter((p) => p.roomId === room.id && p.frame.type === 'room.deleted'),
    ).toEqual([{ roomId: room.id, frame: { type: 'room.deleted', reason: 'closed' } }])
    await expect(service.closeRoomInternal(room.id, 'closed')).resolves.toBe(false)
    await expect(service.closeRoom(owner, room.id)).rejects.toMatchObject({
      code: 'ROOM_NOT_FOUND',
    })
    expect(service.roomForChannel(room.channelId)).toBeNull()
    expect(events.types(room.id).filter((t) => t === 'room.deleted')).toHaveLength(1)
  })

  it('listMyRooms lists only the caller’s rooms', async () => {
    const { service } = makeService(world)
    const a = newActor(world)
    const b = newActor(world)
    const ra = await service.createRoom(a, 'mine')
    await service.createRoom(b, 'theirs')
    expect((await service.listMyRooms(a)).map((r) => r.id)).toEqual([ra.id])
  })

  it('spreads channels over categories and answers NO_CAPACITY past the guild limit', async () => {
    const { service } = makeService(world, { channelsPerCategory: 1, guildChannelLimit: 4 })
    const owner = newActor(world)
    const r1 = await service.createRoom(owner, 'one')
    const r2 = await service.createRoom(owner, 'two')
    const parents = await Promise.all(
      [r1, r2].map(async (r) => (await getChannel(r.channelId)).parent_id),
    )
    expect(new Set(parents).size).toBe(2)
    await expect(service.createRoom(owner, 'three')).rejects.toMatchObject({
      code: 'NO_CAPACITY',
      status: 503,
    })
  })

  it('maps Discord failures to DISCORD_UNAVAILABLE without Discord text, and rides out a short 429', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    world.emu.control.restFault({
      method: 'POST',
      path: `/guilds/${world.emu.guildId}/channels`,
      status: 500,
      count: 4,
    })
    const error = await service.createRoom(owner, 'boom').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'DISCORD_UNAVAILABLE', status: 502 })
    expect((error as Error).message).toBe('Discord did not answer as expected. Try again.')
    const owner2 = newActor(world)
    world.emu.control.restFault({
      method: 'POST',
      path: `/guilds/${world.emu.guildId}/channels`,
      status: 429,
      count: 1,
      retryAfter: 0.2,
    })
    await expect(service.createRoom(owner2, 'after 429')).resolves.toMatchObject({
      name: 'after 429',
    })
  })
})

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
      listCategories: () => file.listCategories(),
      addCategory: (id) => file.addCategory(id),
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

describe('restarts and reconciliation', () => {
  it('rooms and invites survive a restart (new RoomService on the same file)', async () => {
    const path = `${world.dir}/restart.json`
    const make = () =>
      makeService(world, {
        store: new FileRoomStore(path),
        invites: new InviteTokens({ secret: SECRET, now: () => Date.now() }),
      }).service
    const first = make()
    const owner = newActor(world)
    const room = await first.createRoom(owner, 'durable')
    const second = make()
    await second.start()
    expect(second.roomForChannel(room.channelId)).toBe(room.id)
    const guest = newActor(world)
    const joined = await second.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    expect(joined.room.players).toHaveLength(2)
    second.stop()
  })

  it('deletes orphan channels in our categories, closes rooms whose channel is gone, spares other channels', async () => {
    const { service, store, events } = makeService(world)
    const owner = newActor(world)
    const kept = await service.createRoom(owner, 'kept')
    const gone = await service.createRoom(owner, 'gone')
    const category = (await getChannel(kept.channelId)).parent_id as string
    const orphan = await world.discord.createRoomChannel({
      name: 'orphan',
      parentId: category,
      ownerId: owner.userId,
    })
    await world.rest.delete(Routes.channel(gone.channelId))
    const foreign = lobby()
    const report = await service.reconcile()
    expect(report.deletedChannels).toEqual([orphan])
    expect(report.closedRooms).toEqual([gone.id])
    expect(channelExists(orphan)).toBe(false)
    expect(channelExists(kept.channelId)).toBe(true)
    expect(channelExists(foreign)).toBe(true)
    expect(await store.get(gone.id)).toBeNull()
    expect(events.published.find((p) => p.roomId === gone.id)?.frame).toEqual({
      type: 'room.deleted',
      reason: 'channel_gone',
    })
    expect(await service.reconcile()).toEqual({ deletedChannels: [], closedRooms: [] })
  })
  it('a reconciliation that starts while a room is being created does not delete it', async () => {
    let reconciling: Promise<unknown> | null = null
    // Discord answers the channel creation; a reconciliation starts right then, and the
    // room's store insert is still to come.
    const discord = new Proxy(world.discord, {
      get(target, prop, receiver) {
        if (prop === 'createRoomChannel') {
          return async (input: Parameters<typeof target.createRoomChannel>[0]) => {
            const id = await target.createRoomChannel(input)
            reconciling = service.reconcile()
            await new Promise((resolve) => setTimeout(resolve, 100))
            return id
          }
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { service } = makeService(world, { discord })
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'busy')
    expect(reconciling).not.toBeNull()
    expect(await reconciling).toEqual({ deletedChannels: [], closedRooms: [] })
    expect(channelExists(room.channelId)).toBe(true)
    await expect(service.getRoom(owner, room.id)).resolves.toMatchObject({ id: room.id })
  })
})
