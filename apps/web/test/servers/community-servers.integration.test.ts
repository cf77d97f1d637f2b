import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, isAppError } from '@repo/discord-integration'
import { DEFAULT_SERVER_ROOM_SETTINGS } from '@repo/discord-integration/contracts'
import pino from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  CommunityServers,
  restCommunityDiscord,
} from '../../src/features/servers/community-servers.server'
import { FileServerSettingsStore } from '../../src/features/servers/file-server-settings-store.server'
import type { Actor } from '../../src/server/ports'
import { ManualClock } from '../support/manual-clock'

const logger = pino({ level: 'silent' })
let emu: Emulator
let dir: string

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
})
afterAll(async () => {
  await emu?.close()
})
beforeEach(async () => {
  emu.control.reset()
  dir = await mkdtemp(join(tmpdir(), 'tv-community-'))
  return () => rm(dir, { recursive: true, force: true })
})

const userId = (name: string) =>
  emu.control.state().users.find((u) => u.username === name)?.id ?? ''

/** A signed-in actor with a token as sign-in with ROOMS_COMMUNITY=1 gets it. */
function actor(name: string, scopes = ['identify', 'guilds.join', 'guilds']): Actor {
  const id = userId(name)
  const { accessToken } = emu.control.issueAccessToken({ userId: id, scopes })
  return { userId: id, username: name, globalName: null, avatar: null, accessToken }
}

function service(clock = new ManualClock(), path = join(dir, 'server-settings.json')) {
  const store = new FileServerSettingsStore(path)
  const servers = new CommunityServers({
    discord: restCommunityDiscord(createDiscordRest({ api: emu.restBase, token: emu.botToken })),
    store,
    now: () => clock.now(),
    logger,
  })
  return { servers, store, clock }
}

/**
 * The world: Kitchen Table (the default guild, owner Morgan; the player urzas_apprentice is a plain
 * member), Second Table (the bot is in it; the player too), No Bot Here (the player is a member, the
 * bot is not), and a guild the player is not in at all.
 */
function world() {
  const player = userId('urzas_apprentice')
  const second = emu.control.createGuild({
    name: 'Second Table',
    ownerId: userId('serra_angel_42'),
    roles: [
      { name: 'Mods', permissions: '32' },
      { name: 'Players', permissions: '0' },
    ],
    members: [player, { userId: userId('goblin.guide'), roles: ['Mods'] }],
  })
  const noBot = emu.control.createGuild({
    name: 'No Bot Here',
    ownerId: userId('serra_angel_42'),
    bot: false,
    members: [player],
  })
  const elsewhere = emu.control.createGuild({
    name: 'Elsewhere',
    ownerId: userId('llanowar.elf'),
  })
  const role = (name: string) => second.roles.find((r) => r.name === name)?.id ?? ''
  return { player, second, noBot, elsewhere, role }
}

describe('community servers (against the emulator)', () => {
  it('a player in two servers with the bot sees both and only those', async () => {
    const { second } = world()
    const { servers } = service()
    const mine = await servers.listMyServers(actor('urzas_apprentice'))
    expect(mine).toEqual([
      { id: emu.guildId, name: 'Kitchen Table', canCreateRooms: true, canManage: false },
      { id: second.id, name: 'Second Table', canCreateRooms: true, canManage: false },
    ])
    // The owner of Kitchen Table manages it; a Mods member manages Second Table.
    const morgan = await servers.listMyServers(actor('morgan.le.fay'))
    expect(morgan.map((s) => [s.name, s.canManage])).toEqual([['Kitchen Table', true]])
    const mod = await servers.listMyServers(actor('goblin.guide'))
    expect(mod.map((s) => [s.name, s.canManage])).toEqual([
      ['Kitchen Table', false],
      ['Second Table', true],
    ])
  })

  it('a server with rooms disabled, or whose required role the player lacks, is hidden from the picker', async () => {
    const { second, role, player } = world()
    const { servers, clock } = service()
    const mod = actor('goblin.guide')
    const morgan = actor('morgan.le.fay')
    await servers.saveSettings(morgan, {
      guildId: emu.guildId,
      ...DEFAULT_SERVER_ROOM_SETTINGS,
      roomsEnabled: false,
    })
    await servers.saveSettings(mod, {
      guildId: second.id,
      ...DEFAULT_SERVER_ROOM_SETTINGS,
      requiredRoleId: role('Players'),
    })
    const p = actor('urzas_apprentice')
    const mine = await servers.listMyServers(p)
    expect(mine.map((s) => [s.name, s.canCreateRooms])).toEqual([
      ['Kitchen Table', false],
      ['Second Table', false],
    ])
    await expect(servers.placement(p, emu.guildId)).rejects.toMatchObject({
      code: 'SERVER_NOT_ALLOWED',
    })
    await expect(servers.placement(p, second.id)).rejects.toMatchObject({
      code: 'SERVER_NOT_ALLOWED',
    })
    // Given the role, the player sees Second Table once the cached roles are stale (30 s).
    emu.control.setMemberRoles({ guildId: second.id, userId: player, roles: [role('Players')] })
    await clock.advance(31_000)
    const later = await servers.listMyServers(p)
    expect(later.find((s) => s.id === second.id)?.canCreateRooms).toBe(true)
    expect(await servers.placement(p, second.id)).toEqual({
      guildId: second.id,
      settings: { ...DEFAULT_SERVER_ROOM_SETTINGS, requiredRoleId: role('Players') },
    })
  })

  it('places rooms only in shared servers: not one without the bot, not one the player is not in', async () => {
    const { noBot, elsewhere, second } = world()
    const { servers } = service()
    const p = actor('urzas_apprentice')
    for (const guildId of [noBot.id, elsewhere.id]) {
      await expect(servers.placement(p, guildId)).rejects.toMatchObject({
        code: 'SERVER_NOT_ALLOWED',
      })
    }
    expect((await servers.placement(p, second.id)).settings).toEqual(DEFAULT_SERVER_ROOM_SETTINGS)
  })

  it('a non-admin can neither open nor save a server’s settings (MANAGE_SERVER_REQUIRED, 403)', async () => {
    const { second, elsewhere } = world()
    const { servers, store } = service()
    const p = actor('urzas_apprentice')
    for (const guildId of [emu.guildId, second.id, elsewhere.id]) {
      const read = await servers.getSettings(p, guildId).catch((e: unknown) => e)
      expect(isAppError(read, 'MANAGE_SERVER_REQUIRED')).toBe(true)
      expect((read as { status: number }).status).toBe(403)
      const saved = await servers
        .saveSettings(p, { guildId, ...DEFAULT_SERVER_ROOM_SETTINGS, roomsEnabled: false })
        .catch((e: unknown) => e)
      expect(isAppError(saved, 'MANAGE_SERVER_REQUIRED')).toBe(true)
      expect(await store.get(guildId)).toBeNull()
    }
  })

  it('a manager opens the defaults with the server’s roles, saves, and the settings persist', async () => {
    const { second, role, noBot } = world()
    const path = join(dir, 'server-settings.json')
    const { servers, store, clock } = service(new ManualClock(), path)
    const mod = actor('goblin.guide')
    const view = await servers.getSettings(mod, second.id)
    expect(view.guild).toEqual({ id: second.id, name: 'Second Table' })
    expect(view.settings).toEqual(DEFAULT_SERVER_ROOM_SETTINGS)
    expect(view.updatedAt).toBeNull()
    // Assignable roles only: no @everyone, no bot role; highest first.
    expect(view.roles.map((r) => r.name)).toEqual(['Players', 'Mods'])
    const settings = {
      roomsEnabled: true,
      categoryName: 'Cube nights',
      maxOpenRooms: 7,
      requiredRoleId: role('Players'),
    }
    const saved = await servers.saveSettings(mod, { guildId: second.id, ...settings })
    expect(saved.settings).toEqual(settings)
    expect(saved.updatedAt).toBe(clock.now())
    await store.close()

    // A restart: a new store on the same file.
    const again = service(clock, path)
    expect((await again.servers.getSettings(mod, second.id)).settings).toEqual(settings)
    expect(await again.store.get(second.id)).toMatchObject({ updatedBy: mod.userId })

    // A role of another server, or the bot's own role, is refused.
    const botRole = emu.control
      .state()
      .guilds.find((g) => g.id === second.id)
      ?.roles.find((r) => r.managed)?.id
    for (const requiredRoleId of [botRole ?? '', '842831129198596098']) {
      const refused = await again.servers
        .saveSettings(mod, { guildId: second.id, ...settings, requiredRoleId })
        .catch((e: unknown) => e)
      expect(isAppError(refused, 'INVALID_INPUT')).toBe(true)
    }
    // The owner of a server without the bot manages it, but it is not ours to set up.
    const owner = actor('serra_angel_42')
    const missing = await again.servers.getSettings(owner, noBot.id).catch((e: unknown) => e)
    expect(isAppError(missing, 'SERVER_NOT_FOUND')).toBe(true)
  })

  it('a manager who loses Manage Server cannot save, even while their guild list is cached', async () => {
    const { second } = world()
    const { servers } = service()
    const mod = actor('goblin.guide')
    await servers.getSettings(mod, second.id)
    emu.control.setMemberRoles({ guildId: second.id, userId: userId('goblin.guide'), roles: [] })
    const refused = await servers
      .saveSettings(mod, { guildId: second.id, ...DEFAULT_SERVER_ROOM_SETTINGS })
      .catch((e: unknown) => e)
    expect(isAppError(refused, 'MANAGE_SERVER_REQUIRED')).toBe(true)
  })

  it('a sign-in without the guilds scope is asked to sign in again (SERVERS_SIGN_IN)', async () => {
    world()
    const { servers } = service()
    const old = actor('urzas_apprentice', ['identify', 'guilds.join'])
    const error = await servers.listMyServers(old).catch((e: unknown) => e)
    expect(isAppError(error, 'SERVERS_SIGN_IN')).toBe(true)
  })
})
