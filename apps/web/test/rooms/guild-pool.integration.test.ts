import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppError } from '@repo/discord-integration'
import { type APIChannel, PermissionFlagsBits, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type GuildCheck,
  type GuildInfo,
  GuildRegistry,
} from '../../src/features/guilds/guild-registry.server'
import type { RoomService } from '../../src/features/rooms/room-service.server'
import { checkDiscord, guildCheckOf } from '../../src/server/setup-checks.server'
import {
  emulatorConfig,
  logger,
  makeService,
  newActor,
  startWorld,
  tokenOf,
  until,
  type World,
} from './harness'

/*
 * Rooms in several guilds of the emulator (each a full Discord guild with Discord's limits: 500
 * channels, 50 per category): the pool placement, each room's Discord side in its own guild, and
 * what the bot's removal from a guild or an outage there does, as the gateway feed reports them.
 */

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

/** A new guild owned by a fresh user, with the bot installed (GUILD_CREATE on its shard). */
function createGuild(name: string, channels: { name: string; type: 0 }[] = []): string {
  const owner = world.emu.control.createUser({
    username: `owner_${name.replace(/\W/g, '')}`.toLowerCase(),
  })
  return world.emu.control.createGuild({ name, ownerId: owner.id, channels }).id
}

async function channelOf(channelId: string): Promise<APIChannel & { guild_id?: string }> {
  return (await world.rest.get(Routes.channel(channelId))) as APIChannel & { guild_id?: string }
}

/** A registry over the pool, fed by the world's gateway feed (as the runtime wires it). */
function registryFor(
  pool: readonly string[],
  service: RoomService,
  check: (guildId: string) => Promise<GuildCheck | null> = async () => ({
    missingPermissions: [],
    failingChecks: [],
  }),
) {
  const registry = new GuildRegistry({
    pool,
    feed: world.voice,
    check,
    checkOthers: true,
    onRemoved: (guildId) => service.closeGuildRooms(guildId),
    logger,
  })
  registry.start()
  return {
    registry,
    /** Waits until the feed reported the guild in `state` and the registry handled it. */
    reported: async (guildId: string, state: GuildInfo['state']) => {
      await until(() => registry.get(guildId)?.state === state, 5000)
      await registry.idle()
    },
  }
}

describe('rooms in several guilds', () => {
  it('spreads rooms over the pool by free capacity, each with its channel, members and joins in its own guild', async () => {
    const a = world.emu.guildId
    const b = createGuild('Pool B')
    const c = createGuild('Pool C')
    const pool = [a, b, c]
    const { service } = makeService(world, { pool, maxRoomsPerOwner: 10 })
    await service.start()
    await service.reconcile()
    const owner = newActor(world, 'spread')
    const rooms = []
    for (let i = 0; i < 6; i++) rooms.push(await service.createRoom(owner, `spread ${i}`))
    // Fresh guilds B and C have more free channels than the seeded default guild.
    const perGuild = new Map<string, number>()
    for (const room of rooms) {
      perGuild.set(room.guildId, (perGuild.get(room.guildId) ?? 0) + 1)
      expect((await channelOf(room.channelId)).guild_id).toBe(room.guildId)
    }
    expect(perGuild.get(b)).toBeGreaterThanOrEqual(2)
    expect(perGuild.get(c)).toBeGreaterThanOrEqual(2)
    expect([...perGuild.keys()].every((g) => pool.includes(g))).toBe(true)
    // Each guild's rooms are under that guild's own category.
    const categories = new Map(rooms.map((r) => [r.guildId, new Set<string>()]))
    for (const room of rooms) {
      const channel = (await channelOf(room.channelId)) as APIChannel & { parent_id: string }
      categories.get(room.guildId)?.add(channel.parent_id)
      expect((await channelOf(channel.parent_id)).guild_id).toBe(room.guildId)
    }
    // A player joins a room of guild C: they become a member of C and get the channel.
    const inC = rooms.find((r) => r.guildId === c)
    if (!inC) throw new Error('no room in C')
    const guest = newActor(world, 'guest')
    const links = await service.getRoomLinks(owner, inC.id)
    const joined = await service.joinRoom(guest, inC.id, tokenOf(links.invite.url))
    expect(joined.room.players.map((p) => p.userId)).toContain(guest.userId)
    const member = await world.rest.get(Routes.guildMember(c, guest.userId))
    expect(member).toMatchObject({ user: { id: guest.userId } })
    expect(joined.voice.joinUrl).toBe(`${world.emu.webUrl}/channels/${c}/${inC.channelId}`)
    // Voice is read per guild: in C's room channel, the guest is seen there and nowhere else.
    world.emu.control.setVoice({ userId: guest.userId, channelId: inC.channelId })
    await until(() => world.voice.memberChannel(c, guest.userId) === inC.channelId, 5000)
    expect(world.voice.memberChannel(a, guest.userId)).toBeNull()
    await expect(service.connectVoice(guest, inC.id)).resolves.toMatchObject({
      status: 'already_in_channel',
    })
    service.stop()
  })

  it('the bot removed from a guild closes that guild’s rooms (guild_removed) and touches nothing else; an outage touches nothing', async () => {
    const a = createGuild('Removal A')
    const b = createGuild('Removal B')
    const pool = [a, b]
    // The runtime's wiring: the rooms ask the registry where rooms may go.
    let placeable = (_guildId: string) => true
    const { service, events, store } = makeService(world, {
      pool,
      maxRoomsPerOwner: 10,
      placeable: (guildId) => placeable(guildId),
    })
    await service.start()
    const { registry, reported } = registryFor(pool, service)
    placeable = (guildId) => registry.placeable(guildId)
    await reported(a, 'available')
    await reported(b, 'available')
    const owner = newActor(world, 'removal')
    const rooms = []
    for (let i = 0; i < 4; i++) rooms.push(await service.createRoom(owner, `removal ${i}`))
    const inA = rooms.filter((r) => r.guildId === a)
    const inB = rooms.filter((r) => r.guildId === b)
    expect(inA.length).toBeGreaterThan(0)
    expect(inB.length).toBeGreaterThan(0)

    // An outage of B: its rooms stay, new rooms go to A, reconciliation leaves B alone.
    world.emu.control.setGuildAvailable({ guildId: b, available: false })
    await reported(b, 'unavailable')
    expect(registry.placeable(b)).toBe(false)
    const duringOutage = await service.createRoom(owner, 'during outage')
    expect(duringOutage.guildId).toBe(a)
    const reconciled = await makeService(world, {
      pool,
      store,
      reachable: (g) => registry.reachable(g),
    }).service.reconcile()
    expect(reconciled.closedRooms).toEqual([])
    for (const room of inB) expect(await store.get(room.id)).not.toBeNull()
    world.emu.control.setGuildAvailable({ guildId: b, available: true })
    await reported(b, 'available')
    expect(registry.placeable(b)).toBe(true)

    // The bot is removed from A (GUILD_DELETE without unavailable).
    world.emu.control.setBotMembership({ member: false, guildId: a })
    await reported(a, 'removed')
    for (const room of [...inA, duringOutage]) {
      expect(await store.get(room.id)).toBeNull()
      expect(
        events.published.filter((p) => p.roomId === room.id).map((p) => p.frame),
      ).toContainEqual({ type: 'room.deleted', reason: 'guild_removed' })
    }
    for (const room of inB) {
      expect(await store.get(room.id)).not.toBeNull()
      expect(events.types(room.id)).not.toContain('room.deleted')
      expect((await channelOf(room.channelId)).guild_id).toBe(b)
    }
    // A takes no new room; B does.
    expect(registry.placeable(a)).toBe(false)
    const after = await service.createRoom(owner, 'after removal')
    expect(after.guildId).toBe(b)
    // Heard again (every node hears it): nothing more happens.
    const published = events.published.length
    await registry.apply({ type: 'guild.removed', guildId: a })
    expect(events.published.length).toBe(published)
    registry.stop()
    service.stop()
  })
})

describe('a server the bot joins', () => {
  it('is checked before it is offered: with what rooms need it is, without it is not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tv-guild-check-'))
    const config = emulatorConfig(world.emu, { DATA_DIR: dir })
    const check = async (guildId: string) =>
      guildCheckOf(await checkDiscord(config, world.rest, guildId))
    const { service } = makeService(world, { pool: [world.emu.guildId] })
    const { registry, reported } = registryFor([world.emu.guildId], service, check)
    const able = createGuild('Joined able')
    const unable = world.emu.control.createGuild({
      name: 'Joined unable',
      ownerId: world.emu.control.createUser({ username: 'owner_unable' }).id,
      botPermissions: String(PermissionFlagsBits.ViewChannel),
    }).id
    // The feed reports both joins (GUILD_CREATE); the registry checks each.
    await reported(able, 'available')
    await reported(unable, 'available')
    expect(registry.get(able)).toMatchObject({
      state: 'available',
      inPool: false,
      missingPermissions: [],
    })
    expect(registry.get(unable)?.missingPermissions).toContain('ManageChannels')
    expect(registry.offered().map((g) => g.id)).toEqual([able])
    expect(registry.placeable(able)).toBe(true)
    expect(registry.placeable(unable)).toBe(false)
    // Not a pool server: the pool placement does not take a request for it.
    const refused = await service
      .createRoom(newActor(world, 'req'), 'requested', { guildId: able })
      .catch((error: unknown) => error)
    expect((refused as AppError).code).toBe('FORBIDDEN')
    registry.stop()
    await rm(dir, { recursive: true, force: true })
  })
})

describe('pool mode at Discord’s limits', () => {
  let pool: World
  beforeAll(async () => {
    // Discord's channel limits as they are (500 per guild, 50 per category); the REST rate limits
    // are lifted so that 1,500 creations take seconds (the benchmark measures them with the limits).
    pool = await startWorld({
      rateLimits: { route: { limit: 100_000, windowMs: 1000 }, globalPerSecond: 100_000 },
    })
  })
  afterAll(async () => {
    await pool?.close()
  })

  it('1,500 rooms over four pool guilds, then NO_CAPACITY', { timeout: 240_000 }, async () => {
    // Each guild keeps 117 channels of its own: 500 − 117 = 383 = 375 rooms + their 8 categories.
    const OTHER = 117
    const filler = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `text-${i}`, type: 0 as const }))
    const home = pool.emu.guildId
    const seeded = ((await pool.rest.get(Routes.guildChannels(home))) as APIChannel[]).length
    for (const { name, type } of filler(OTHER - seeded)) {
      await pool.rest.post(Routes.guildChannels(home), { body: { name, type } })
    }
    const guilds = [home]
    for (let i = 0; i < 3; i++) {
      const owner = pool.emu.control.createUser({ username: `pool_owner_${i}` })
      guilds.push(
        pool.emu.control.createGuild({
          name: `Pool ${i}`,
          ownerId: owner.id,
          channels: filler(OTHER),
        }).id,
      )
    }
    const { service, store } = makeService(pool, { pool: guilds, maxRoomsPerOwner: 10_000 })
    await service.start()
    await service.reconcile()
    expect((await service.guildUsage()).map((u) => u.freeRooms)).toEqual([375, 375, 375, 375])

    const hosts = Array.from({ length: 6 }, (_, i) => newActor(pool, `host${i}`))
    let created = 0
    await Promise.all(
      hosts.map(async (host) => {
        while (created < 1500) {
          created++
          await service.createRoom(host, `pool room ${created}`)
        }
      }),
    )
    const rooms = await store.list()
    expect(rooms).toHaveLength(1500)
    const perGuild = guilds.map((g) => rooms.filter((r) => r.guildId === g).length)
    expect(perGuild).toEqual([375, 375, 375, 375])
    // Discord agrees: every guild is at 500 channels, no category over 50.
    for (const guildId of guilds) {
      const channels = (await pool.rest.get(Routes.guildChannels(guildId))) as APIChannel[]
      expect(channels).toHaveLength(500)
      const perCategory = new Map<string, number>()
      for (const channel of channels) {
        const parent = 'parent_id' in channel ? channel.parent_id : null
        if (parent) perCategory.set(parent, (perCategory.get(parent) ?? 0) + 1)
      }
      expect(Math.max(...perCategory.values())).toBeLessThanOrEqual(50)
    }
    expect((await service.guildUsage()).map((u) => u.freeRooms)).toEqual([0, 0, 0, 0])
    const late = hosts[0]
    if (!late) throw new Error('no host')
    const refused = await service.createRoom(late, 'one too many').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(AppError)
    expect((refused as AppError).code).toBe('NO_CAPACITY')
    expect(await store.list()).toHaveLength(1500)
    service.stop()
  })
})
