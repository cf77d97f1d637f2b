import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@repo/discord-emulator'
import { describe, expect, it } from 'vitest'
import { bootRuntime, createRuntime, shutdownRuntime } from '../../src/server/runtime.server'
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
})
