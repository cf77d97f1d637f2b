import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@repo/discord-emulator'
import { describe, expect, it } from 'vitest'
import { bootRuntime, createRuntime, shutdownRuntime } from '../../src/server/runtime.server'
import { runtimeHealth, runtimeStatus } from '../../src/server/runtime-status'
import { emulatorConfig, logger, newActor, tokenOf } from './harness'

describe('runtime wiring against the emulator', () => {
  it('boots feed, rooms, presence and cleanup; a restarted runtime keeps the rooms and reconciles', async () => {
    const emu = await startEmulator({ port: 0 })
    const dir = await mkdtemp(join(tmpdir(), 'tv-runtime-'))
    const config = emulatorConfig(emu, {
      SESSION_SECRET: 'r'.repeat(40),
      PUBLIC_URL: 'http://127.0.0.1:3998',
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
    })
    try {
      const first = createRuntime(config, { logger })
      await bootRuntime(first)
      await first.feed?.ready(10_000)
      const world = { emu } as Parameters<typeof newActor>[0]
      const owner = newActor(world, 'rt')
      const room = await first.rooms.createRoom(owner, 'wired')
      expect(first.presence.viewerCount(room.id)).toBe(0)
      expect(first.rooms.roomForChannel(room.channelId)).toBe(room.id)
      await shutdownRuntime(first)
      expect(JSON.parse(await readFile(join(dir, 'rooms.json'), 'utf8')).rooms).toHaveLength(1)

      const second = createRuntime(config, { logger })
      await bootRuntime(second)
      expect(second.rooms.roomForChannel(room.channelId)).toBe(room.id)
      const guest = newActor(world, 'rt')
      const joined = await second.rooms.joinRoom(guest, room.id, tokenOf(room.invite?.url))
      expect(joined.room.players).toHaveLength(2)
      await shutdownRuntime(second)
    } finally {
      await emu.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a pool of three servers: rooms spread over them; /api/health and /metrics show each guild and the shard', async () => {
    const emu = await startEmulator({ port: 0 })
    const dir = await mkdtemp(join(tmpdir(), 'tv-runtime-pool-'))
    const owners = ['a', 'b'].map((n) => emu.control.createUser({ username: `pool_owner_${n}` }))
    const extra = owners.map(
      (owner, i) => emu.control.createGuild({ name: `Pool ${i}`, ownerId: owner.id }).id,
    )
    // A pool server the bot was never added to: checked at start-up, it takes no rooms.
    const without = emu.control.createGuild({
      name: 'No bot',
      ownerId: owners[0]!.id,
      bot: false,
    }).id
    // DISCORD_GUILD_ID (the emulator's default server) and DISCORD_GUILD_IDS, merged.
    const config = emulatorConfig(emu, {
      DATA_DIR: dir,
      DISCORD_GUILD_IDS: [...extra, without].join(','),
    })
    expect(config.DISCORD_GUILD_IDS).toEqual([emu.guildId, ...extra, without])
    const runtime = createRuntime(config, { logger })
    try {
      await bootRuntime(runtime)
      await runtime.feed?.ready(10_000)
      const world = { emu } as Parameters<typeof newActor>[0]
      const owner = newActor(world, 'pool')
      const rooms = []
      for (let i = 0; i < 3; i++) rooms.push(await runtime.rooms.createRoom(owner, `pool ${i}`))
      // The two fresh servers have more free channels than the seeded one.
      expect(new Set(rooms.map((r) => r.guildId))).toEqual(new Set(extra))
      const health = runtimeHealth(runtime)
      expect(health.guilds.map((g) => g.id)).toEqual([emu.guildId, ...extra, without])
      expect(health.guilds.at(-1)).toMatchObject({
        id: without,
        placeable: false,
        failingChecks: ['guild'],
        rooms: 0,
      })
      expect(health.status).toBe('degraded')
      for (const guild of health.guilds.slice(0, -1)) {
        expect(guild).toMatchObject({
          inPool: true,
          placeable: true,
          missingPermissions: [],
          failingChecks: [],
        })
        expect(guild.rooms).toBe(rooms.filter((r) => r.guildId === guild.id).length)
        expect(guild.freeRooms).toBeGreaterThan(400)
      }
      const second = health.guilds[1]
      expect(second?.freeChannels).toBe(500 - (second?.rooms ?? 0) - 1)
      expect(health.shards).toEqual([
        { id: 0, count: 1, state: 'ready', guilds: expect.any(Number) },
      ])
      const metrics = await runtimeStatus(runtime, true).metrics.text()
      expect(metrics).toContain(`guild_placeable{guild="${without}",pool="1"} 0`)
      for (const guild of health.guilds) {
        expect(metrics).toContain(`guild_rooms{guild="${guild.id}",pool="1"} ${guild.rooms}`)
        expect(metrics).toContain(
          `guild_free_rooms{guild="${guild.id}",pool="1"} ${guild.freeRooms}`,
        )
      }
      expect(metrics).toContain('gateway_shard_ready{shard="0"} 1')
    } finally {
      await shutdownRuntime(runtime)
      await emu.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
