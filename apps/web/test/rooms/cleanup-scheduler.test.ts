import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { CleanupScheduler } from '../../src/features/rooms/cleanup-scheduler.server'
import { ManualClock } from '../support/manual-clock'

const logger = pino({ level: 'silent' })

describe('CleanupScheduler', () => {
  it('sweeps every interval', async () => {
    const clock = new ManualClock()
    const sweeps: number[] = []
    const scheduler = new CleanupScheduler({
      clock,
      logger,
      intervalMs: 60_000,
      target: { sweep: async () => sweeps.push(clock.now()), nextDeadline: () => null },
    })
    const start = clock.now()
    scheduler.start()
    await clock.advance(180_000)
    expect(sweeps).toEqual([start + 60_000, start + 120_000, start + 180_000])
    scheduler.stop()
    await clock.advance(120_000)
    expect(sweeps).toHaveLength(3)
    expect(clock.pending).toBe(0)
  })

  it('wakes up exactly at a deadline that comes before the next interval', async () => {
    const clock = new ManualClock()
    const sweeps: number[] = []
    const deadline = clock.now() + 12_345
    const scheduler = new CleanupScheduler({
      clock,
      logger,
      target: {
        sweep: async () => sweeps.push(clock.now()),
        nextDeadline: () => (sweeps.length === 0 ? deadline : null),
      },
    })
    scheduler.start()
    await clock.advance(12_345)
    expect(sweeps).toEqual([deadline])
    scheduler.stop()
  })

  it('keeps running after a failing sweep', async () => {
    const clock = new ManualClock()
    let calls = 0
    const scheduler = new CleanupScheduler({
      clock,
      logger,
      intervalMs: 1000,
      target: {
        sweep: async () => {
          calls++
          if (calls === 1) throw new Error('boom')
        },
        nextDeadline: () => null,
      },
    })
    scheduler.start()
    await clock.advance(3000)
    expect(calls).toBe(3)
    scheduler.stop()
  })

  it('reconciles with Discord every reconcileEveryMs, and keeps going when that fails', async () => {
    const clock = new ManualClock()
    const reconciles: number[] = []
    const start = clock.now()
    const scheduler = new CleanupScheduler({
      clock,
      logger,
      intervalMs: 60_000,
      reconcileEveryMs: 600_000,
      target: {
        sweep: async () => undefined,
        nextDeadline: () => null,
        reconcile: async () => {
          reconciles.push(clock.now())
          if (reconciles.length === 1) throw new Error('discord down')
        },
      },
    })
    scheduler.start()
    await clock.advance(1_800_000)
    expect(reconciles).toEqual([start + 600_000, start + 1_200_000, start + 1_800_000])
    scheduler.stop()
  })
})
