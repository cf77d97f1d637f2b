import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { DEFAULT_SERVER_ROOM_SETTINGS } from '@repo/discord-integration/contracts'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileServerSettingsStore } from '../../src/features/servers/file-server-settings-store.server'
import { RedisServerSettingsStore } from '../../src/features/servers/redis-server-settings-store.server'
import type { Actor } from '../../src/server/ports'
import { createRuntime, shutdownRuntime } from '../../src/server/runtime.server'
import { emulatorConfig, logger } from '../rooms/harness'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
let emu: Emulator
let dir: string

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
})
afterAll(async () => {
  await emu?.close()
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-runtime-community-'))
  return () => rm(dir, { recursive: true, force: true })
})

/** Morgan, the default guild's owner, signed in with the guilds scope. */
function owner(): Actor {
  const userId = emu.control.state().users.find((u) => u.username === 'morgan.le.fay')?.id ?? ''
  const { accessToken } = emu.control.issueAccessToken({
    userId,
    scopes: ['identify', 'guilds.join', 'guilds'],
  })
  return { userId, username: 'morgan.le.fay', globalName: null, avatar: null, accessToken }
}

async function authorizeScopes(runtime: ReturnType<typeof createRuntime>): Promise<string[]> {
  const { location } = await runtime.auth.beginLogin('/')
  return (new URL(location).searchParams.get('scope') ?? '').split(' ').sort()
}

describe('community servers in the runtime', () => {
  it('off by default: no servers service, no settings store, sign-in asks what it always asked', async () => {
    const runtime = createRuntime(emulatorConfig(emu, { DATA_DIR: dir }), { logger })
    try {
      expect(runtime.servers).toBeNull()
      expect(runtime.serverSettings).toBeNull()
      expect(await authorizeScopes(runtime)).toEqual(['guilds.join', 'identify'])
    } finally {
      await shutdownRuntime(runtime)
    }
  })

  it('one node: sign-in asks the guilds scope, settings live in DATA_DIR and outlive a restart', async () => {
    const config = emulatorConfig(emu, { DATA_DIR: dir, ROOMS_COMMUNITY: '1' })
    const first = createRuntime(config, { logger })
    const settings = { ...DEFAULT_SERVER_ROOM_SETTINGS, categoryName: 'Kitchen rooms' }
    try {
      expect(await authorizeScopes(first)).toEqual(['guilds', 'guilds.join', 'identify'])
      expect(first.serverSettings).toBeInstanceOf(FileServerSettingsStore)
      await first.servers?.saveSettings(owner(), { guildId: emu.guildId, ...settings })
    } finally {
      await shutdownRuntime(first)
    }
    const file = JSON.parse(await readFile(join(dir, 'server-settings.json'), 'utf8'))
    expect(file.servers).toMatchObject([{ guildId: emu.guildId, categoryName: 'Kitchen rooms' }])
    const second = createRuntime(config, { logger })
    try {
      expect((await second.servers?.getSettings(owner(), emu.guildId))?.settings).toEqual(settings)
    } finally {
      await shutdownRuntime(second)
    }
  })

  it('several nodes: settings live in Redis, and a save on one node is read on another', async () => {
    const prefix = `tv-test:${randomUUID()}:`
    const config = emulatorConfig(emu, {
      DATA_DIR: dir,
      ROOMS_COMMUNITY: '1',
      REDIS_URL,
      REDIS_PREFIX: prefix,
    })
    const a = createRuntime(config, { logger })
    const b = createRuntime(config, { logger })
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
    try {
      expect(a.serverSettings).toBeInstanceOf(RedisServerSettingsStore)
      const settings = { ...DEFAULT_SERVER_ROOM_SETTINGS, roomsEnabled: false, maxOpenRooms: 9 }
      await a.servers?.saveSettings(owner(), { guildId: emu.guildId, ...settings })
      expect((await b.servers?.getSettings(owner(), emu.guildId))?.settings).toEqual(settings)
      expect(await redis.hexists(`${prefix}server-settings`, emu.guildId)).toBe(1)
      const mine = await b.servers?.listMyServers(owner())
      expect(mine?.find((s) => s.id === emu.guildId)?.canCreateRooms).toBe(false)
    } finally {
      await shutdownRuntime(a)
      await shutdownRuntime(b)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length) await redis.del(...keys)
      await redis.quit()
    }
  })
})
