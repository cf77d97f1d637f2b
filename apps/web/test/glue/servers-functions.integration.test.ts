import { type Emulator, startEmulator } from '@repo/discord-emulator'
import type { MyServers, ServerSettingsView } from '@repo/discord-integration/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppServer, resultOf, startAppServer } from './app-server'
import { signInOverHttp } from './sessions'

/**
 * The community server functions over HTTP (ROOMS_COMMUNITY=1), through TanStack Start itself
 * and the emulator, with players signed in by the real OAuth flow (which then asks `guilds`).
 */

let emu: Emulator
let app: AppServer

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  app = await startAppServer(emu, { env: { ROOMS_COMMUNITY: '1' } })
}, 120_000)

afterAll(async () => {
  await app?.close()
  await emu?.close()
})

const userId = (name: string) =>
  emu.control.state().users.find((u) => u.username === name)?.id ?? ''

async function failure(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return (await response.json()) as { code: string; message: string }
}

describe('community server functions over HTTP', () => {
  it('lists the shared servers; a non-manager gets 403 MANAGE_SERVER_REQUIRED; the owner reads and saves', async () => {
    const player = userId('urzas_apprentice')
    const s = Math.random().toString(36).slice(2, 6)
    const shared = emu.control.createGuild({
      name: `Shared ${s}`,
      ownerId: userId('serra_angel_42'),
      members: [player],
    })
    const withoutBot = emu.control.createGuild({
      name: `Botless ${s}`,
      ownerId: userId('serra_angel_42'),
      bot: false,
      members: [player],
    })
    const playerCookie = await signInOverHttp(app.url, player)
    const mine = await resultOf<MyServers>(
      await app.call('listMyServers', undefined, { cookie: playerCookie }),
    )
    expect(mine.community).toBe(true)
    expect(mine.servers.map((g) => g.id).sort()).toEqual([emu.guildId, shared.id].sort())
    expect(mine.servers.every((g) => g.canCreateRooms && !g.canManage)).toBe(true)

    const read = await app.call(
      'getServerSettings',
      { guildId: emu.guildId },
      { cookie: playerCookie },
    )
    expect(read.status).toBe(403)
    expect(await failure(read)).toEqual({
      code: 'MANAGE_SERVER_REQUIRED',
      message: "Only members with Manage Server can change this server's room settings.",
    })
    const save = await app.call(
      'saveServerSettings',
      {
        guildId: emu.guildId,
        roomsEnabled: false,
        categoryName: 'x',
        maxOpenRooms: 1,
        requiredRoleId: null,
      },
      { cookie: playerCookie },
    )
    expect(save.status).toBe(403)
    expect((await failure(save)).code).toBe('MANAGE_SERVER_REQUIRED')

    // A picked server without the bot is refused before any room is made.
    const refused = await app.call(
      'createRoom',
      { name: 'elsewhere', guildId: withoutBot.id },
      { cookie: playerCookie },
    )
    expect(refused.status).toBe(403)
    expect((await failure(refused)).code).toBe('SERVER_NOT_ALLOWED')

    const ownerCookie = await signInOverHttp(app.url, userId('morgan.le.fay'))
    const view = await resultOf<ServerSettingsView>(
      await app.call('getServerSettings', { guildId: emu.guildId }, { cookie: ownerCookie }),
    )
    expect(view.guild).toEqual({ id: emu.guildId, name: 'Kitchen Table' })
    const saved = await resultOf<ServerSettingsView>(
      await app.call(
        'saveServerSettings',
        { guildId: emu.guildId, ...view.settings, roomsEnabled: false },
        { cookie: ownerCookie },
      ),
    )
    expect(saved.settings.roomsEnabled).toBe(false)
    // Rooms off in Kitchen Table: the player no longer can create rooms there.
    const after = await resultOf<MyServers>(
      await app.call('listMyServers', undefined, { cookie: playerCookie }),
    )
    expect(after.servers.find((g) => g.id === emu.guildId)?.canCreateRooms).toBe(false)
    const invalid = await app.call(
      'saveServerSettings',
      { guildId: emu.guildId, ...view.settings, maxOpenRooms: 0 },
      { cookie: ownerCookie },
    )
    expect(invalid.status).toBe(400)
  })
})
