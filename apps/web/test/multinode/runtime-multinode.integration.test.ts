import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@repo/discord-emulator'
import { describe, expect, it } from 'vitest'
import { bootRuntime, createRuntime, shutdownRuntime } from '../../src/server/runtime.server'
import { emulatorConfig, logger, newActor, until } from '../rooms/harness'
import { REDIS_URL, testPrefix } from './nodes'

describe('two web runtimes on one Redis (hub mode)', () => {
  it('share rooms, elect one cleanup leader and hand leadership over on shutdown', async () => {
    const emu = await startEmulator({ port: 0, quiet: true })
    const dir = await mkdtemp(join(tmpdir(), 'tv-multinode-'))
    const run = testPrefix()
    const config = (port: number) =>
      emulatorConfig(emu, {
        SESSION_SECRET: 'm'.repeat(40),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        GATEWAY_MODE: 'hub',
        HUB_SECRET: 'h'.repeat(40),
        REDIS_URL,
        REDIS_PREFIX: run.prefix,
        LEADER_LEASE_MS: '300',
      })
    const a = createRuntime(config(3995), { logger })
    const b = createRuntime(config(3994), { logger })
    try {
      await bootRuntime(a)
      await bootRuntime(b)
      expect(a.leadership.isLeader).toBe(true)
      expect(b.leadership.isLeader).toBe(false)

      const owner = newActor({ emu } as Parameters<typeof newActor>[0], 'node')
      const room = await a.rooms.createRoom(owner, 'across nodes')
      await until(() => b.rooms.roomForChannel(room.channelId) === room.id)
      expect(b.rooms.roomAccess(room.id, owner.userId)).not.toBeNull()

      await shutdownRuntime(a)
      await until(() => b.leadership.isLeader, 2000)
    } finally {
      await shutdownRuntime(b)
      await emu.close()
      await run.cleanup()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
