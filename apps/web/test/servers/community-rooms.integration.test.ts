import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { isAppError } from '@repo/discord-integration'
import { DEFAULT_SERVER_ROOM_SETTINGS } from '@repo/discord-integration/contracts'
import { type APIChannel, Routes } from 'discord-api-types/v10'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Actor } from '../../src/server/ports'
import {
  bootRuntime,
  createRuntime,
  type Runtime,
  shutdownRuntime,
} from '../../src/server/runtime.server'
import { emulatorConfig, logger, until } from '../rooms/harness'

/*
 * Rooms in a community server (ROOMS_COMMUNITY=1), through the runtime as the create-room server
 * function drives it: the player's right to create rooms there, then the placement puts the
 * channel in that server, under its own category name and "Most open rooms".
 */

let emu: Emulator
let dir: string
let runtime: Runtime

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  dir = await mkdtemp(join(tmpdir(), 'tv-community-rooms-'))
  runtime = createRuntime(emulatorConfig(emu, { DATA_DIR: dir, ROOMS_COMMUNITY: '1' }), { logger })
  await bootRuntime(runtime)
}, 60_000)
afterAll(async () => {
  if (runtime) await shutdownRuntime(runtime)
  await emu?.close()
  await rm(dir, { recursive: true, force: true })
})

function actor(userId: string, username: string): Actor {
  const { accessToken } = emu.control.issueAccessToken({
    userId,
    scopes: ['identify', 'guilds.join', 'guilds'],
  })
  return { userId, username, globalName: null, avatar: null, accessToken }
}

/** What the createRoom server function does with a picked server. */
async function createIn(player: Actor, name: string, guildId: string) {
  await runtime.servers?.placement(player, guildId)
  return runtime.rooms.createRoom(player, name, { guildId })
}

async function channel(
  id: string,
): Promise<APIChannel & { guild_id?: string; parent_id?: string }> {
  return (await runtime.rest.get(Routes.channel(id))) as APIChannel & {
    guild_id?: string
    parent_id?: string
  }
}

describe('rooms in a community server', () => {
  it('a picked server gets the room’s channel, under its category name, up to its most open rooms', async () => {
    const s = Math.random().toString(36).slice(2, 6)
    const owner = emu.control.createUser({ username: `owner${s}` })
    const player = emu.control.createUser({ username: `player${s}` })
    const guild = emu.control.createGuild({
      name: `Community ${s}`,
      ownerId: owner.id,
      members: [player.id],
    })
    // The gateway reported the new server before rooms may go there.
    await until(() => runtime.guilds.get(guild.id)?.state === 'available', 5000)
    await runtime.guilds.idle()
    const manager = actor(owner.id, `owner${s}`)
    await runtime.servers?.saveSettings(manager, {
      guildId: guild.id,
      ...DEFAULT_SERVER_ROOM_SETTINGS,
      categoryName: 'Board nights',
      maxOpenRooms: 2,
    })

    const p = actor(player.id, `player${s}`)
    const first = await createIn(p, 'first', guild.id)
    expect(first.guildId).toBe(guild.id)
    const made = await channel(first.channelId)
    expect(made.guild_id).toBe(guild.id)
    expect((await channel(made.parent_id ?? '')).name).toBe('Board nights 1')

    await createIn(actor(owner.id, `owner${s}`), 'second', guild.id)
    const full = await createIn(p, 'third', guild.id).catch((e: unknown) => e)
    expect(isAppError(full, 'SERVER_FULL')).toBe(true)

    // No pick: the room goes to the deployment's own server, as without community servers.
    const own = await runtime.rooms.createRoom(p, 'at home')
    expect(own.guildId).toBe(emu.guildId)

    // Rooms off: the server is no longer offered, and a pick of it is refused.
    await runtime.servers?.saveSettings(manager, {
      guildId: guild.id,
      ...DEFAULT_SERVER_ROOM_SETTINGS,
      roomsEnabled: false,
    })
    const off = await createIn(p, 'fourth', guild.id).catch((e: unknown) => e)
    expect(isAppError(off, 'SERVER_NOT_ALLOWED')).toBe(true)
  })
})
