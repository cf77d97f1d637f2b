import { DEFAULT_WORLD, startEmulator } from '@repo/discord-emulator'
import { createDiscordRest } from '@repo/discord-integration'
import { PermissionFlagsBits } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import { RestDiscordRooms } from '../../src/features/rooms/discord-rooms.server'
import { logger } from './harness'

async function missingWith(world: typeof DEFAULT_WORLD) {
  const emu = await startEmulator({ port: 0, world, quiet: true })
  try {
    const discord = new RestDiscordRooms({
      rest: createDiscordRest({ api: emu.restBase, token: emu.botToken }),
      guildId: emu.guildId,
      logger,
    })
    return await discord.missingBotPermissions()
  } finally {
    await emu.close()
  }
}

describe('the start-up check of the bot permissions', () => {
  it('finds nothing missing in the default world', async () => {
    expect(await missingWith(DEFAULT_WORLD)).toEqual([])
  })

  it('names what the bot lacks, counting what @everyone grants', async () => {
    const strip = (permissions: string, ...names: (keyof typeof PermissionFlagsBits)[]) =>
      names
        .reduce((bits, name) => bits & ~PermissionFlagsBits[name], BigInt(permissions))
        .toString()
    const world = structuredClone(DEFAULT_WORLD)
    world.roles = world.roles.map((role, i) =>
      i === 0
        ? { ...role, permissions: strip(role.permissions, 'Stream') }
        : { ...role, permissions: strip(role.permissions, 'ManageRoles', 'Stream') },
    )
    expect(await missingWith(world)).toEqual(['ManageRoles', 'Stream'])
  })
})
