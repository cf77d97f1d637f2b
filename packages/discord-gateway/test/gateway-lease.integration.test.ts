import { describe, expect, it } from 'vitest'
import type { LeaseGrant, LeaseLoss } from '../src/cluster/gateway-lease'
import { GatewayLease } from '../src/cluster/gateway-lease'
import { gatewayKeys } from '../src/cluster/keys'
import { eventually, holdsFor, testLogger } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const KEYS = gatewayKeys('t:')
const TTL = 600

function candidate(
  name: string,
  extra: { now?: () => number; client?: ReturnType<typeof redis.client> } = {},
) {
  const lease = new GatewayLease({
    redis: extra.client ?? redis.client(),
    keys: KEYS,
    holderId: `host:${name}`,
    ttlMs: TTL,
    pollMs: 50,
    logger: testLogger,
    ...(extra.now ? { now: extra.now } : {}),
  })
  const grants: LeaseGrant[] = []
  const losses: LeaseLoss[] = []
  lease.onAcquired((grant) => grants.push(grant))
  lease.onLost((reason) => losses.push(reason))
  return { lease, grants, losses, name }
}

type Candidate = ReturnType<typeof candidate>
const holdersOf = (all: Candidate[]) => all.filter((c) => c.lease.holds())

describe('GatewayLease', () => {
  it('one candidate at a time holds it; each handover hands out a larger token', async () => {
    const all = [candidate('a'), candidate('b'), candidate('c')]
    for (const c of all) c.lease.start()
    await eventually(() => expect(holdersOf(all)).toHaveLength(1))
    await holdsFor(3 * TTL, () => expect(holdersOf(all)).toHaveLength(1)) // renewals keep it
    const tokens: number[] = []
    for (let i = 0; i < 3; i++) {
      const [leader] = holdersOf(all) as [Candidate]
      tokens.push(leader.lease.token as number)
      expect(await redis.client().get(KEYS.lease)).toBe(`host:${leader.name}:${leader.lease.token}`)
      expect(Number(await redis.client().get(KEYS.fence))).toBe(leader.lease.token)
      // Others see who leads from their polls.
      await eventually(() =>
        expect(all.map((c) => c.lease.leader?.token)).toEqual(all.map(() => leader.lease.token)),
      )
      await leader.lease.stop() // graceful: released, the next poll takes it (well before the TTL)
      expect(leader.losses.at(-1)).toBe('released')
      const start = Date.now()
      const rest = all.filter((c) => c !== leader)
      await eventually(() => expect(holdersOf(rest)).toHaveLength(1))
      expect(Date.now() - start).toBeLessThan(TTL)
      all.splice(all.indexOf(leader), 1, candidate(`${leader.name}2`))
      for (const c of all) c.lease.start()
    }
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y))
    expect(new Set(tokens).size).toBe(3)
    for (const c of all) await c.lease.stop()
  })

  it('the token keeps growing across a Redis that lost everything (it restarts from the clock)', async () => {
    const a = candidate('a')
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    const first = a.lease.token as number
    // A token ahead of Redis's clock (a host whose clock was ahead handed it out, say).
    await a.lease.stop()
    await redis.client().set(KEYS.fence, String(first + 60_000))
    const b = candidate('b')
    b.lease.start()
    await eventually(() => expect(b.lease.holds()).toBe(true))
    expect(b.lease.token).toBe(first + 60_001) // fence + 1 while that is ahead of Redis's clock
    await b.lease.stop()
    await redis.client().flushall()
    const c = candidate('c')
    c.lease.start()
    await eventually(() => expect(c.lease.holds()).toBe(true))
    const [seconds] = (await redis.client().time()) as [number, number]
    // From Redis's clock: above every token it handed out before, except one from the future.
    expect(c.lease.token).toBeGreaterThan(first)
    expect(c.lease.token).toBeGreaterThanOrEqual(seconds * 1000 - 5_000)
    await c.lease.stop()
  })

  it('holds() is false as soon as the monotonic clock is past the renewal (a SIGSTOP), before any timer runs', async () => {
    let skew = 0
    const a = candidate('a', { now: () => performance.now() + skew })
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    skew += TTL // the process was frozen for a whole lease
    expect(a.lease.holds()).toBe(false)
    expect(a.lease.token).not.toBeNull() // not yet reported: no timer has run
    await eventually(() => expect(a.losses).toEqual(['expired']))
    await a.lease.stop()
  })

  it('a holder that cannot reach Redis reports the loss by itself, and a candidate takes over after the lease', async () => {
    const lonely = redis.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false })
    const a = candidate('a', { client: lonely })
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    const b = candidate('b')
    b.lease.start()
    lonely.disconnect() // a partition: a can no longer renew
    const cut = Date.now()
    await eventually(() => expect(a.losses).toEqual(['expired']))
    expect(Date.now() - cut).toBeLessThanOrEqual(TTL)
    await eventually(() => expect(b.lease.holds()).toBe(true))
    expect(b.lease.token).toBeGreaterThan(a.grants[0]?.token as number)
    await b.lease.stop()
    await a.lease.stop()
  })

  it('confirm() is false while Redis does not answer, even though the last renewal is still fresh', async () => {
    const lonely = redis.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false })
    const a = candidate('a', { client: lonely })
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    lonely.disconnect()
    expect(a.lease.holds()).toBe(true)
    expect(await a.lease.confirm()).toBe(false)
    await a.lease.stop()
  })

  it('a renewal that finds another holder reports taken; confirm() answers from Redis', async () => {
    const a = candidate('a')
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    expect(await a.lease.confirm()).toBe(true)
    await redis.client().set(KEYS.lease, 'intruder:1', 'PX', 60_000)
    expect(await a.lease.confirm()).toBe(false)
    expect(a.losses).toEqual(['taken'])
    expect(a.lease.leader).toMatchObject({ holderId: 'intruder', token: 1 })
    await a.lease.stop()
  })

  it('Redis losing a valid lease: the holder takes it again with a larger token, without a loss', async () => {
    const a = candidate('a')
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    const first = a.lease.token as number
    await redis.client().flushall()
    await eventually(() => expect(a.grants).toHaveLength(2))
    expect(a.grants[1]).toMatchObject({ reacquired: true })
    expect(a.lease.token).toBeGreaterThan(first)
    expect(a.losses).toEqual([])
    expect(await redis.client().get(KEYS.lease)).toBe(`host:a:${a.lease.token}`)
    await a.lease.stop()
  })

  it('surrender() after a fenced write drops the lease and frees it if it is still ours', async () => {
    const a = candidate('a')
    a.lease.start()
    await eventually(() => expect(a.lease.holds()).toBe(true))
    a.lease.surrender()
    expect(a.lease.holds()).toBe(false)
    expect(a.losses).toEqual(['fenced'])
    await eventually(async () =>
      expect(await redis.client().get(KEYS.lease)).not.toBe(`host:a:${a.grants[0]?.token}`),
    )
    await a.lease.stop()
  })
})
