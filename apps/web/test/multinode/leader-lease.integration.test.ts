import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { LeaderLease } from '../../src/server/leader-lease.server'
import { until } from '../rooms/harness'
import { REDIS_URL, testPrefix } from './nodes'

const clients: Redis[] = []
const leases: LeaderLease[] = []
let run: ReturnType<typeof testPrefix>

function lease(key: string, ttlMs = 300) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  clients.push(redis)
  const l = new LeaderLease({ redis, key, ttlMs })
  leases.push(l)
  return { lease: l, redis }
}

afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()))
  for (const c of clients.splice(0)) c.disconnect()
  await run?.cleanup()
})

describe('LeaderLease (real Redis)', () => {
  it('two competing leases: exactly one leads, renewals keep it past the ttl', async () => {
    run = testPrefix()
    const key = `${run.prefix}leader`
    const one = lease(key)
    const two = lease(key)
    await Promise.all([one.lease.start(), two.lease.start()])
    expect([one.lease.isLeader, two.lease.isLeader].filter(Boolean)).toHaveLength(1)
    const winner = one.lease.isLeader ? one : two
    const loser = winner === one ? two : one
    // Several ttls later the winner still holds it: it renews.
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(winner.lease.isLeader).toBe(true)
      expect(loser.lease.isLeader).toBe(false)
    }
    expect(await winner.redis.get(key)).toBe(winner.lease.holderId)
  })

  it('a stopped leader releases the lease and the other node takes over without waiting for the ttl', async () => {
    run = testPrefix()
    const key = `${run.prefix}leader`
    const first = lease(key, 60_000)
    await first.lease.start()
    // The follower retries every 200 ms; the leader's lease would last a minute.
    const second = lease(key, 600)
    const changes: boolean[] = []
    second.lease.onChange((leader) => changes.push(leader))
    await second.lease.start()
    expect(first.lease.isLeader).toBe(true)
    expect(second.lease.isLeader).toBe(false)
    await first.lease.stop()
    expect(first.lease.isLeader).toBe(false)
    await until(() => second.lease.isLeader, 1500)
    expect(changes).toEqual([true])
    expect(await second.redis.get(key)).toBe(second.lease.holderId)
  })

  it('a crashed leader (no renewals) is replaced after its ttl, not before', async () => {
    run = testPrefix()
    const key = `${run.prefix}leader`
    const crashed = lease(key, 400)
    await crashed.lease.start()
    const heir = lease(key, 400)
    await heir.lease.start()
    expect(heir.lease.isLeader).toBe(false)
    // The crash: its connection dies, so no renewal or release reaches Redis.
    crashed.redis.disconnect()
    const crashedAt = Date.now()
    const ttlLeft = await heir.redis.pttl(key)
    expect(ttlLeft).toBeGreaterThan(0)
    await until(() => heir.lease.isLeader, 3000)
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(ttlLeft - 20)
    expect(await heir.redis.get(key)).toBe(heir.lease.holderId)
    // The crashed one noticed its renewal failing and does not think it leads.
    await until(() => !crashed.lease.isLeader, 3000)
  })
})
