import { describe, expect, it } from 'vitest'
import { checkReadiness } from '../../src/server/readiness.server'
import type { Runtime } from '../../src/server/runtime.server'

/** What the clustered feed's status says about this node (several nodes). */
interface ClusterParts {
  ready: boolean
  state: 'starting' | 'following' | 'stale'
  lagMs: number
  health?: 'ok' | 'degraded'
}

/** The parts of a runtime readiness reads. */
function runtime(parts: {
  gateway?: string
  cluster?: ClusterParts
  ping?: () => Promise<string>
}): Runtime {
  const { cluster } = parts
  return {
    config: { GATEWAY_MAX_LAG_MS: 5_000 },
    feed: parts.gateway ? { status: () => ({ state: parts.gateway }) } : null,
    cluster: cluster
      ? {
          status: () => ({
            health: cluster.health ?? 'ok',
            mirror: { ready: cluster.ready, state: cluster.state },
            lag: { entries: 0, ms: cluster.lagMs },
          }),
        }
      : null,
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

  it('with several nodes, is ready once this node has the voice snapshot, follows the stream and does not lag', async () => {
    const ok = () => Promise.resolve('PONG')
    const check = (cluster: ClusterParts) => checkReadiness(runtime({ cluster, ping: ok }))
    expect(await check({ ready: true, state: 'following', lagMs: 0 })).toEqual({
      ready: true,
      reasons: [],
    })
    expect(await check({ ready: false, state: 'starting', lagMs: 0 })).toEqual({
      ready: false,
      reasons: ['no complete voice snapshot', 'voice stream not followed yet'],
    })
    expect(await check({ ready: true, state: 'following', lagMs: 5_001 })).toEqual({
      ready: false,
      reasons: ['voice stream lag 5001 ms'],
    })
    // What every node would say alike (no gateway leader, the feed gone from Redis): degraded in
    // /api/health, still ready (it serves the last known state).
    expect((await check({ ready: true, state: 'stale', lagMs: 0, health: 'degraded' })).ready).toBe(
      true,
    )
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
