import type { APIGatewayBotInfo } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import { IdentifyGate } from '../src/gateway/identify-gate'
import { manualClock } from './support/manual-clock'

type Limit = APIGatewayBotInfo['session_start_limit']
const limit = (remaining: number, reset_after = 60_000): Limit => ({
  total: 1000,
  remaining,
  reset_after,
  max_concurrency: 1,
})

function gate(limits: Limit[], spacingMs = 5_000) {
  const { clock, sleeps } = manualClock()
  const opened: { remaining: number; waitMs: number }[] = []
  const identifyGate = new IdentifyGate({
    clock,
    minRemaining: 10,
    spacingMs,
    sessionStartLimit: async () => limits.shift() ?? limit(1000),
    onBreakerOpen: (l, waitMs) => opened.push({ remaining: l.remaining, waitMs }),
  })
  return { identifyGate, clock, sleeps, opened }
}

describe('identify gate', () => {
  it('opens at once with budget left and no identify before', async () => {
    const { identifyGate, sleeps, opened } = gate([limit(500)])
    await identifyGate.wait(new AbortController().signal)
    expect(sleeps).toEqual([])
    expect(opened).toEqual([])
  })

  it('below the minimum it waits for the reset (at least 1 s) and asks Discord again', async () => {
    const { identifyGate, sleeps, opened } = gate([limit(9, 42_000), limit(3, 0), limit(1000)])
    await identifyGate.wait(new AbortController().signal)
    expect(opened).toEqual([
      { remaining: 9, waitMs: 42_000 },
      { remaining: 3, waitMs: 1_000 },
    ])
    expect(sleeps).toEqual([42_000, 1_000])
  })

  it('keeps two identifies spacingMs apart', async () => {
    const { identifyGate, clock, sleeps } = gate([], 5_000)
    const signal = new AbortController().signal
    await identifyGate.wait(signal)
    await clock.sleep(1_500, signal) // time passes between the two
    await identifyGate.wait(signal)
    expect(sleeps).toEqual([1_500, 3_500])
  })

  it('rejects when aborted', async () => {
    const { identifyGate } = gate([limit(0)])
    const controller = new AbortController()
    controller.abort(new Error('stopped'))
    await expect(identifyGate.wait(controller.signal)).rejects.toThrow('stopped')
  })
})
