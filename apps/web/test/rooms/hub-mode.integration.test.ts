import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '@repo/discord-emulator'
import { createHubSender, createVoiceFeed, MemorySessionStore } from '@repo/discord-gateway'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bootRuntime,
  createRuntime,
  type Runtime,
  shutdownRuntime,
} from '../../src/server/runtime.server'
import { emulatorConfig, logger, newActor } from './harness'

const HUB_SECRET = 'hub-secret-for-tests-0123456789abcdef'

async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('GATEWAY_MODE=hub: the gateway in its own process feeds the web runtime', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>
  let dir: string
  let runtime: Runtime
  let feed: ReturnType<typeof createVoiceFeed>
  let sender: ReturnType<typeof createHubSender>

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, heartbeatIntervalMs: 1000, quiet: true })
    dir = await mkdtemp(join(tmpdir(), 'tv-hub-'))
    const config = emulatorConfig(emu, {
      SESSION_SECRET: 's'.repeat(40),
      PUBLIC_URL: 'http://127.0.0.1:3997',
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      GATEWAY_MODE: 'hub',
      HUB_SECRET,
    })
    runtime = createRuntime(config, { logger })
    await bootRuntime(runtime)
    // The "other process": a real feed against the emulator, delivering through the
    // runtime's hub receiver exactly as the internal HTTP route does.
    feed = createVoiceFeed({
      token: emu.botToken,
      guildId: emu.guildId,
      apiUrl: emu.restBase,
      sessionStore: new MemorySessionStore(),
      logger,
    })
    await feed.start()
    await feed.ready(10_000)
    const hub = runtime.hub
    if (!hub) throw new Error('hub receiver missing')
    sender = createHubSender(feed, {
      url: 'http://web.internal/api/internal/voice-events',
      secret: HUB_SECRET,
      guildId: emu.guildId,
      fetch: (input, init) => hub.handle(new Request(input, init)),
    })
    sender.start()
  })

  afterAll(async () => {
    await sender?.stop()
    await feed?.stop()
    if (runtime) await shutdownRuntime(runtime)
    await emu?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('runs no gateway of its own and mirrors the hub feed', async () => {
    expect(runtime.feed).toBeNull()
    await until(() => runtime.hub?.synced === true)
    const lobby = emu.control.state().channels.find((c) => c.name === 'Lobby')
    const { id } = emu.control.createUser({ username: 'hub.player' })
    emu.control.setVoice({ userId: id, channelId: lobby?.id ?? null })
    await until(() => runtime.voice.memberChannel(id) === lobby?.id)
    emu.control.setVoice({ userId: id, channelId: null })
    await until(() => runtime.voice.memberChannel(id) === null)
  })

  it('rooms move a player who is in voice, from the mirrored presence', async () => {
    const world = { emu } as Parameters<typeof newActor>[0]
    const owner = newActor(world, 'hub')
    const lobby = emu.control.state().channels.find((c) => c.name === 'Lobby')
    emu.control.setVoice({ userId: owner.userId, channelId: lobby?.id ?? null })
    await until(() => runtime.voice.memberChannel(owner.userId) === lobby?.id)
    const room = await runtime.rooms.createRoom(owner, 'hub room')
    const result = await runtime.rooms.connectVoice(owner, room.id)
    expect(result.status).toBe('moved')
    await until(() => runtime.voice.memberChannel(owner.userId) === room.channelId)
  })

  it('refuses unsigned deliveries without saying why', async () => {
    const response = await runtime.hub?.handle(
      new Request('http://web.internal/api/internal/voice-events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'snapshot' }),
      }),
    )
    expect(response?.status).toBe(401)
    const text = (await response?.text()) ?? ''
    expect(text).not.toMatch(/signature|hmac|nonce|secret/i)
  })
})
