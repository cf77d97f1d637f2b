import { MAX_SPECTATORS } from '@repo/discord-integration/contracts'
import { type APIGuildVoiceChannel, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PLAYER_ALLOW,
  SPECTATOR_ALLOW,
  SPECTATOR_DENY,
} from '../../src/features/rooms/discord-rooms.server'
import { MemoryAttemptLimiter } from '../../src/server/attempt-limiter'
import { makeService, newActor, startWorld, tokenOf, type World } from './harness'

/**
 * The table's commands against the Discord emulator: spectators and their watch link, the lock,
 * room codes and their attempt limits, handing the room over, and the typed refusal of each.
 */

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const channel = (id: string) => world.rest.get(Routes.channel(id)) as Promise<APIGuildVoiceChannel>
const overwriteOf = async (channelId: string, userId: string) =>
  (await channel(channelId)).permission_overwrites?.find((o) => o.id === userId)

async function roomWithLinks(service: ReturnType<typeof makeService>['service']) {
  const host = newActor(world, 'host')
  const room = await service.createRoom(host, 'table')
  const links = await service.rotateWatchLink(host, room.id)
  return { host, room, links }
}

describe('spectators', () => {
  it('watch by the watch link: no seat, a listen-only overwrite, no links, room for one more in voice', async () => {
    const { service, events } = makeService(world)
    const { host, room, links } = await roomWithLinks(service)
    expect(links.watch?.url).toMatch(new RegExp(`/rooms/${room.id}/watch\\?t=`))
    const fan = newActor(world, 'fan')
    const token = tokenOf(links.watch?.url)
    await expect(service.previewWatch(room.id, token)).resolves.toMatchObject({
      name: 'table',
      spectators: 0,
      maxSpectators: MAX_SPECTATORS,
    })
    const view = await service.watchRoom(fan, room.id, token)
    expect(view.players.map((p) => p.userId)).toEqual([host.userId])
    expect(view.spectators.map((s) => s.userId)).toEqual([fan.userId])
    // What only players may see never reaches a spectator.
    expect(view).toMatchObject({ invite: null, code: null, watch: null })
    await expect(service.getRoomLinks(fan, room.id)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    await expect(service.openRoom(fan, room.id)).resolves.toMatchObject({ role: 'spectator' })
    // Discord: View Channel + Connect allowed, Speak and Video denied; the limit grows by one.
    const overwrite = await overwriteOf(room.channelId, fan.userId)
    expect(overwrite).toMatchObject({ allow: SPECTATOR_ALLOW, deny: SPECTATOR_DENY })
    expect(BigInt(overwrite?.deny ?? 0) & (1n << 21n)).toBe(1n << 21n) // SPEAK
    expect(BigInt(overwrite?.deny ?? 0) & (1n << 9n)).toBe(1n << 9n) // STREAM (video)
    expect((await channel(room.channelId)).user_limit).toBe(5)
    expect(events.published.filter((p) => p.roomId === room.id).at(-1)?.frame).toMatchObject({
      type: 'room.updated',
      state: { spectators: [{ userId: fan.userId }] },
    })
    // Watching again is a no-op; a player opening the link stays a player.
    await service.watchRoom(fan, room.id, token)
    expect((await service.getRoom(host, room.id)).spectators).toHaveLength(1)
    await expect(service.watchRoom(host, room.id, token)).resolves.toMatchObject({
      spectators: [{ userId: fan.userId }],
    })
    expect((await service.openRoom(host, room.id)).role).toBe('host')
    // A spectator who stops watching loses the place and the access.
    await service.leaveRoom(fan, room.id)
    expect((await service.getRoom(host, room.id)).spectators).toEqual([])
    expect(await overwriteOf(room.channelId, fan.userId)).toBeUndefined()
    expect((await channel(room.channelId)).user_limit).toBe(4)
  })

  it(`at most ${MAX_SPECTATORS}; the lock does not apply to them`, async () => {
    const { service } = makeService(world)
    const { host, room, links } = await roomWithLinks(service)
    await service.setLocked(host, room.id, true)
    const token = tokenOf(links.watch?.url)
    for (let i = 0; i < MAX_SPECTATORS; i++) {
      await service.watchRoom(newActor(world, 'crowd'), room.id, token)
    }
    await expect(service.watchRoom(newActor(world, 'late'), room.id, token)).rejects.toMatchObject({
      code: 'SPECTATORS_FULL',
      status: 409,
    })
    expect((await channel(room.channelId)).user_limit).toBe(4 + MAX_SPECTATORS)
  })

  it('the host removes a spectator (the link is rotated) or revokes the link; others may not', async () => {
    const { service } = makeService(world)
    const { host, room, links } = await roomWithLinks(service)
    const token = tokenOf(links.watch?.url)
    const [one, two] = [newActor(world, 'one'), newActor(world, 'two')]
    await service.watchRoom(one, room.id, token)
    await service.watchRoom(two, room.id, token)
    await expect(service.removeSpectator(one, room.id, two.userId)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const after = await service.removeSpectator(host, room.id, one.userId)
    expect(after.spectators.map((s) => s.userId)).toEqual([two.userId])
    expect(await overwriteOf(room.channelId, one.userId)).toBeUndefined()
    // The removed spectator's link no longer works; the new one does.
    await expect(service.watchRoom(one, room.id, token)).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    })
    expect(after.watch?.url).not.toBe(links.watch?.url)
    const revoked = await service.revokeWatchLink(host, room.id)
    expect(revoked.watch).toBeNull()
    await expect(service.previewWatch(room.id, tokenOf(after.watch?.url))).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    })
    await expect(service.revokeWatchLink(two, room.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    // An invite link never passes for a watch link.
    await expect(
      service.watchRoom(newActor(world), room.id, tokenOf(room.invite?.url)),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' })
  })

  it('a spectator who joins by the invite takes a seat and a player’s overwrite', async () => {
    const { service } = makeService(world)
    const { room, links } = await roomWithLinks(service)
    const fan = newActor(world, 'fan')
    await service.watchRoom(fan, room.id, tokenOf(links.watch?.url))
    const { room: joined } = await service.joinRoom(fan, room.id, tokenOf(room.invite?.url))
    expect(joined.players.map((p) => p.userId)).toContain(fan.userId)
    expect(joined.spectators).toEqual([])
    expect(await overwriteOf(room.channelId, fan.userId)).toMatchObject({ allow: PLAYER_ALLOW })
    expect((await channel(room.channelId)).user_limit).toBe(4)
  })
})

describe('the lock', () => {
  it('refuses new players by link and by code; a seated player is not new; only the host locks', async () => {
    const { service, events } = makeService(world)
    const host = newActor(world, 'host')
    const room = await service.createRoom(host, 'locked')
    const guest = newActor(world, 'guest')
    await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await expect(service.setLocked(guest, room.id, true)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const locked = await service.setLocked(host, room.id, true)
    expect(locked.locked).toBe(true)
    expect(events.published.at(-1)?.frame).toMatchObject({
      type: 'room.updated',
      state: { locked: true },
    })
    const stranger = newActor(world, 'stranger')
    await expect(
      service.joinRoom(stranger, room.id, tokenOf(room.invite?.url)),
    ).rejects.toMatchObject({ code: 'ROOM_LOCKED', status: 409 })
    await expect(
      service.joinByCode(stranger, room.code ?? '', '198.51.100.1'),
    ).rejects.toMatchObject({ code: 'ROOM_LOCKED' })
    await expect(service.previewInvite(room.id, tokenOf(room.invite?.url))).resolves.toMatchObject({
      locked: true,
    })
    await expect(
      service.joinRoom(guest, room.id, tokenOf(room.invite?.url)),
    ).resolves.toMatchObject({ room: { locked: true } })
    await service.setLocked(host, room.id, false)
    await expect(
      service.joinByCode(stranger, room.code ?? '', '198.51.100.1'),
    ).resolves.toMatchObject({ room: { id: room.id } })
  })
})

describe('room codes', () => {
  it('seat like the invite link; rotate and expire with it', async () => {
    const { service, clock } = makeService(world)
    const host = newActor(world, 'host')
    const room = await service.createRoom(host, 'coded')
    expect(room.code).toMatch(/^[ABCDEFGHJKMNPQRSTWXYZ2-9]{6}$/)
    const first = newActor(world, 'first')
    const { room: joined } = await service.joinByCode(first, room.code ?? '', null)
    expect(joined.players.map((p) => p.userId)).toEqual([host.userId, first.userId])
    const rotated = await service.rotateInvite(host, room.id)
    expect(rotated.code).not.toBe(room.code)
    const second = newActor(world, 'second')
    await expect(service.joinByCode(second, room.code ?? '', null)).rejects.toMatchObject({
      code: 'CODE_INVALID',
      status: 404,
    })
    await clock.advance(24 * 3600 * 1000 + 1000)
    await expect(service.joinByCode(second, rotated.code ?? '', null)).rejects.toMatchObject({
      code: 'CODE_INVALID',
    })
    // A player's page renews the expired invite: a fresh code comes with it.
    const links = await service.getRoomLinks(host, room.id)
    expect(links.code).not.toBe(rotated.code)
    await expect(service.joinByCode(second, links.code, null)).resolves.toBeTruthy()
  })

  it('attempts are limited per user and per address, with the seconds to wait', async () => {
    const limits = { limit: 3, windowMs: 60_000 }
    const { service, clock } = makeService(world, {
      codeAttempts: {
        perUser: new MemoryAttemptLimiter(limits, { now: () => clock.now() }),
        perAddress: new MemoryAttemptLimiter(
          { limit: 5, windowMs: 60_000 },
          { now: () => clock.now() },
        ),
      },
    })
    const guesser = newActor(world, 'guesser')
    for (let i = 0; i < 3; i++) {
      await expect(service.joinByCode(guesser, 'ZZZZZZ', `203.0.113.${i}`)).rejects.toMatchObject({
        code: 'CODE_INVALID',
      })
    }
    await expect(service.joinByCode(guesser, 'ZZZZZZ', '203.0.113.99')).rejects.toMatchObject({
      code: 'CODE_ATTEMPTS',
      status: 429,
      retryAfter: 60,
    })
    // Many accounts behind one address run into the address's limit.
    for (let i = 0; i < 5; i++) {
      await expect(
        service.joinByCode(newActor(world, 'sock'), 'ZZZZZZ', '198.51.100.7'),
      ).rejects.toMatchObject({ code: 'CODE_INVALID' })
    }
    await expect(
      service.joinByCode(newActor(world, 'sock'), 'ZZZZZZ', '198.51.100.7'),
    ).rejects.toMatchObject({ code: 'CODE_ATTEMPTS' })
    await clock.advance(60_000)
    await expect(service.joinByCode(guesser, 'ZZZZZZ', '203.0.113.99')).rejects.toMatchObject({
      code: 'CODE_INVALID',
    })
  })
})

describe('host handover', () => {
  it('the host hands the room to a player (not a spectator); the old host loses the controls', async () => {
    const { service } = makeService(world)
    const { host, room, links } = await roomWithLinks(service)
    const guest = newActor(world, 'guest')
    const fan = newActor(world, 'fan')
    await service.joinRoom(guest, room.id, tokenOf(room.invite?.url))
    await service.watchRoom(fan, room.id, tokenOf(links.watch?.url))
    await expect(service.transferHost(host, room.id, fan.userId)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    })
    await expect(service.transferHost(guest, room.id, guest.userId)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const handed = await service.transferHost(host, room.id, guest.userId)
    expect(handed.ownerId).toBe(guest.userId)
    await expect(service.setLocked(host, room.id, true)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    await expect(service.setLocked(guest, room.id, true)).resolves.toMatchObject({ locked: true })
    expect((await service.openRoom(host, room.id)).role).toBe('player')
  })

  it('the host leaving on purpose hands the room to the longest-seated player', async () => {
    const { service } = makeService(world)
    const host = newActor(world, 'host')
    const room = await service.createRoom(host, 'leaving')
    const [first, second] = [newActor(world, 'first'), newActor(world, 'second')]
    await service.joinRoom(first, room.id, tokenOf(room.invite?.url))
    await service.joinRoom(second, room.id, tokenOf(room.invite?.url))
    await service.leaveRoom(host, room.id)
    const after = await service.getRoom(first, room.id)
    expect(after.ownerId).toBe(first.userId)
    expect(after.players.map((p) => p.userId)).toEqual([first.userId, second.userId])
  })
})
