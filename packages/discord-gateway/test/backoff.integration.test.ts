import { afterEach, describe, expect, it } from 'vitest'
import type { VoiceFeed } from '../src/voice-feed'
import { createVoiceFeed } from '../src/voice-feed'
import { steppingClock } from './support/clock'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator, testLogger } from './support/harness'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A feed with the production timings (no backoff, timings, watchdog or budget options): only time
 * is injected, and the jitter draw is fixed at one half, so every wait is half its ceiling.
 */
async function productionFeed(emu: Emulator, clock: ReturnType<typeof steppingClock>['clock']) {
  const feed: VoiceFeed = createVoiceFeed({
    token: emu.botToken,
    apiUrl: emu.restBase,
    logger: testLogger,
    clock,
    random: () => 0.5,
  })
  cleanups.push(() => feed.stop())
  await feed.start()
  return feed
}

const ceilings = (sleeps: number[]) => sleeps.map((ms) => ms * 2)

describe('the backoff the gateway connection really uses (production defaults, injected time)', () => {
  it('reconnects after 1, 2, 4, 8, 16, 30, 30 s ceilings and counts again from the first after READY and after RESUMED', async () => {
    const emu = await startTestEmulator()
    cleanups.push(() => emu.close())
    let outageEndsAtWait = 0
    const { clock, sleeps } = steppingClock((_ms, index) => {
      if (index === outageEndsAtWait) emu.control.refuse(0)
    })
    const feed = await productionFeed(emu, clock)
    await feed.ready(5_000)
    expect(sleeps).toEqual([])

    // Outage 1: every socket is refused. The first reconnect is immediate, then one wait per
    // attempt; after 3 network errors the session is given up, so it ends in a new session (READY).
    outageEndsAtWait = 7
    emu.control.refuse(3_600_000)
    emu.control.closeGateway(1006)
    await eventually(() => {
      expect(emu.control.stats().identifies).toBe(2)
      expect(feed.status().state).toBe('ready')
    })
    expect(ceilings(sleeps)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])

    // Outage 2, after READY: the count starts again; the kept session resumes (RESUMED).
    outageEndsAtWait = 9
    emu.control.refuse(3_600_000)
    emu.control.closeGateway(1006)
    await eventually(() => {
      expect(emu.control.stats().resumes).toBe(1)
      expect(feed.status().state).toBe('ready')
    })
    expect(ceilings(sleeps.slice(7))).toEqual([1000, 2000])

    // Outage 3, after RESUMED: the count starts again.
    outageEndsAtWait = 10
    emu.control.refuse(3_600_000)
    emu.control.closeGateway(1006)
    await eventually(() => {
      expect(emu.control.stats().resumes).toBe(2)
      expect(feed.status().state).toBe('ready')
    })
    expect(ceilings(sleeps.slice(9))).toEqual([1000])
    expect(emu.control.stats().identifies).toBe(2)
  })

  it('retries GET /gateway/bot after 1, 2, 4 s ceilings when it fails at start-up', async () => {
    const emu = await startTestEmulator()
    cleanups.push(() => emu.close())
    // @discordjs/rest retries a 5xx 3 times itself: 4 answers make one failure of ours.
    emu.control.restFault({ method: 'GET', path: '/gateway/bot', status: 500, count: 3 * 4 })
    const { clock, sleeps } = steppingClock()
    const feed = await productionFeed(emu, clock)
    await feed.ready(5_000)
    expect(ceilings(sleeps)).toEqual([1000, 2000, 4000])
    expect(emu.control.stats().pendingFaults).toBe(0)
  })
})
