import { afterEach, describe, expect, it } from 'vitest'
import type { GatewayState } from '../src/gateway-status'
import type { VoiceFeed } from '../src/voice-feed'
import type { Emulator } from './support/harness'
import {
  eventually,
  expectFeedEqualsTruth,
  feedFor,
  startTestEmulator,
  voiceChannels,
} from './support/harness'
import { capturingLogger } from './support/logs'

/**
 * What the connection learns from @discordjs/ws's events and payloads rather than its debug text:
 * the heartbeat interval and a resume on the same socket.
 */
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function emulator(options: Parameters<typeof startTestEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startTestEmulator(options)
  cleanups.push(() => emu.close())
  return emu
}

async function readyFeed(emu: Emulator, overrides: Parameters<typeof feedFor>[1] = {}) {
  const feed: VoiceFeed = feedFor(emu, overrides)
  cleanups.push(() => feed.stop())
  await feed.start()
  await feed.ready(5_000)
  await eventually(() => expect(feed.status().state).toBe('ready'))
  const states: GatewayState[] = []
  feed.onStatus(({ to }) => states.push(to))
  return { feed, states }
}

function firstUser(emu: Emulator): string {
  const user = emu.control.state().users.find((u) => !u.bot)
  if (!user) throw new Error('the emulated guild has no members')
  return user.id
}

describe('heartbeat interval', () => {
  it("is measured on the socket: HELLO's interval, not the assumed default", async () => {
    const emu = await emulator({ heartbeatIntervalMs: 300 })
    const { feed } = await readyFeed(emu, {
      timings: { defaultHeartbeatMs: 41_250, identifySpacingMs: 150 },
    })
    await eventually(() => expect(feed.status().heartbeatIntervalMs).not.toBeNull())
    const measured = feed.status().heartbeatIntervalMs as number
    expect(measured).toBeGreaterThanOrEqual(299) // timers fire at the interval, never a beat early
    expect(measured).toBeLessThan(3_000) // and nowhere near the assumed 41,250 ms
  })

  it('the watchdog runs at the measured interval (it fires before the library notices the missing ACKs)', async () => {
    const emu = await emulator({ heartbeatIntervalMs: 300 })
    const { logger, lines } = capturingLogger()
    const { feed } = await readyFeed(emu, {
      logger,
      watchdog: { intervals: 1 },
      timings: { defaultHeartbeatMs: 41_250, identifySpacingMs: 150 },
    })
    await eventually(() => expect(feed.status().heartbeatIntervalMs).not.toBeNull())
    const before = emu.control.stats()
    emu.control.setHeartbeatAcks(false)
    await eventually(() => expect(lines.some((l) => l.msg?.startsWith('watchdog'))).toBe(true))
    emu.control.setHeartbeatAcks(true)
    await eventually(() => {
      expect(emu.control.stats().resumes).toBe(before.resumes + 1)
      expect(feed.status().state).toBe('ready')
    })
    expect(emu.control.stats().identifies).toBe(before.identifies)
  })
})

describe('resume detection', () => {
  it('op 9 d:true with nothing to replay: the same socket resumes, shown as resuming -> ready', async () => {
    const emu = await emulator()
    const { feed, states } = await readyFeed(emu)
    const before = emu.control.stats()
    const { reconnects } = feed.status()
    emu.control.invalidate(true)
    await eventually(() => expect(states).toEqual(['resuming', 'ready']))
    expect(emu.control.stats().resumes).toBe(before.resumes + 1)
    expect(emu.control.stats().identifies).toBe(before.identifies)
    expect(feed.status().reconnects).toBe(reconnects) // no close: the socket stayed
    expect(feed.status().lastResumedAt).not.toBeNull()
  })

  it('op 9 d:true with missed events: they are replayed on the same socket, resuming -> ready', async () => {
    const emu = await emulator()
    const { feed, states } = await readyFeed(emu)
    const before = emu.control.stats()
    const { reconnects } = feed.status()
    emu.control.invalidate(true)
    emu.control.setVoice({ userId: firstUser(emu), channelId: voiceChannels(emu)[0] as string })
    await eventually(() => {
      expect(states).toEqual(['resuming', 'ready'])
      expectFeedEqualsTruth(emu, feed)
    })
    expect(emu.control.stats().resumes).toBe(before.resumes + 1)
    expect(emu.control.stats().identifies).toBe(before.identifies)
    expect(feed.status().reconnects).toBe(reconnects)
  })

  it('op 7 closes the socket and resumes on a new one: resuming -> ready, no IDENTIFY', async () => {
    const emu = await emulator()
    const { feed, states } = await readyFeed(emu)
    const before = emu.control.stats()
    const { reconnects } = feed.status()
    emu.control.reconnect()
    await eventually(() => expect(states).toEqual(['resuming', 'ready']))
    expect(emu.control.stats().resumes).toBe(before.resumes + 1)
    expect(emu.control.stats().identifies).toBe(before.identifies)
    expect(feed.status().reconnects).toBe(reconnects + 1)
  })
})
