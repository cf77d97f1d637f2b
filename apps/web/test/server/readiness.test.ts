import { describe, expect, it } from 'vitest'
import { checkReadiness } from '../../src/server/readiness.server'
import type { Runtime } from '../../src/server/runtime.server'

/** The parts of a runtime readiness reads. */
function runtime(parts: {
  gateway?: string
  hubSynced?: boolean
  ping?: () => Promise<string>
}): Runtime {
  return {
    feed: parts.gateway ? { status: () => ({ state: parts.gateway }) } : null,
    hub: parts.hubSynced === undefined ? null : { synced: parts.hubSynced },
    redis: parts.ping ? { ping: parts.ping } : null,
  } as unknown as Runtime
}

describe('checkReadiness', () => {
  it('is not ready before the runtime has started', async () => {
    expect(await checkReadiness(null)).toEqual({ ready: false, reasons: ['starting'] })
  })

  it('is ready while the gateway is ready or resuming, not while it connects or stopped', async () => {
    for (const state of ['ready', 'resuming']) {
      expect((await checkReadiness(runtime({ gateway: state }))).ready).toBe(true)
    }
    for (const state of ['idle', 'connecting', 'reconnecting', 'backing_off', 'stopped']) {
      expect(await checkReadiness(runtime({ gateway: state }))).toEqual({
        ready: false,
        reasons: [`gateway ${state}`],
      })
    }
  })

  it('in hub mode, is ready once the hub snapshot arrived', async () => {
    expect((await checkReadiness(runtime({ hubSynced: false }))).ready).toBe(false)
    expect((await checkReadiness(runtime({ hubSynced: true }))).ready).toBe(true)
  })

  it('needs Redis, when used, to answer PING in time', async () => {
    const ok = () => Promise.resolve('PONG')
    expect((await checkReadiness(runtime({ gateway: 'ready', ping: ok }))).ready).toBe(true)
    const failing = () => Promise.reject(new Error('ECONNREFUSED'))
    expect(await checkReadiness(runtime({ gateway: 'ready', ping: failing }))).toEqual({
      ready: false,
      reasons: ['redis'],
    })
    const hanging = () => new Promise<string>(() => {})
    expect(await checkReadiness(runtime({ gateway: 'ready', ping: hanging }), 20)).toEqual({
      ready: false,
      reasons: ['redis'],
    })
  })
})
