import { describe, expect, it } from 'vitest'
import { type ClusterStatusInput, clusterStatus } from '../src/cluster/cluster-status'
import type { LeaderWatch } from '../src/cluster/leader-watch'
import type { MirrorStatus } from '../src/cluster/mirror-contract'

/** A node following one guild, its shard led by someone else, its mirror `lagMs` behind. */
function input(lagMs: number, maxLagMs = 5_000): ClusterStatusInput {
  const mirror: MirrorStatus = {
    state: 'following',
    epoch: 'e1',
    lastId: '1-0',
    feedSeq: 10,
    ready: true,
    members: 3,
    lag: { entries: lagMs > 0 ? 40 : 0, ms: lagMs, checkedAt: Date.now() },
    resyncs: 0,
    lastResync: null,
    invalid: 0,
    errors: 0,
    lastError: null,
  }
  const leaders = {
    leaderChanges: 1,
    get: () => ({
      leader: { holderId: 'node-a', token: 7 },
      noLeaderSince: null,
      handover: null,
    }),
  } as unknown as LeaderWatch
  return {
    mirror: { mirror, guilds: [] },
    shards: [{ id: 0, count: 1 }],
    shardCount: 1,
    leaders,
    candidates: [],
    reshards: 0,
    leaseMs: 15_000,
    maxLagMs,
  }
}

describe('the clustered feed’s health', () => {
  it('is ok while the node keeps up with the stream', () => {
    expect(clusterStatus(input(0))).toMatchObject({ health: 'ok', reasons: [] })
    expect(clusterStatus(input(4_999))).toMatchObject({ health: 'ok', reasons: [] })
  })

  it('is degraded, saying by how much, once the node lags beyond the bound (GATEWAY_MAX_LAG_MS)', () => {
    expect(clusterStatus(input(6_200))).toMatchObject({
      health: 'degraded',
      reasons: ['stream lag 6200 ms'],
      lag: { entries: 40, ms: 6_200 },
    })
    expect(clusterStatus(input(600, 500))).toMatchObject({
      health: 'degraded',
      reasons: ['stream lag 600 ms'],
    })
  })
})
