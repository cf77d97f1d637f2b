import { type APIGuildVoiceChannel, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLAYER_ALLOW } from '../../src/features/rooms/discord-rooms.server'
import {
  makeService,
  newActor,
  PUBLIC_URL,
  startWorld,
  tokenOf,
  until,
  type World,
} from './harness'

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

  it('connectVoice moves a user who is in another voice channel', async () => {
    const { service } = makeService(world)
    const owner = newActor(world)
    const room = await service.createRoom(owner, 'voice')
    await expect(service.connectVoice(owner, room.id)).resolves.toMatchObject({
      status: 'not_in_voice',
    })
    world.emu.control.setVoice({ userId: owner.userId, channelId: lobby() })
    await until(() => world.feed.memberChannel(owner.userId) === lobby())
    await expect(service.connectVoice(owner, room.id)).resolves.toMatchObject({ status: 'moved' })
    await until(() => world.feed.memberChannel(owner.userId) === room.channelId)
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
