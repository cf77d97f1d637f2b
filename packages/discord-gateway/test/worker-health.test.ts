import { describe, expect, it } from 'vitest'
import type { CandidateState, CandidateStatus } from '../src/cluster/gateway-candidate'
import type { WorkerHealthInput } from '../src/cluster/worker-health'
import { workerHealth } from '../src/cluster/worker-health'

function candidate(id: number, count: number, state: CandidateState, alert: string | null = null) {
  const status: CandidateStatus = {
    holderId: `w#${id}`,
    state,
    isLeader: state === 'leading',
    token: state === 'leading' ? 7 : null,
    leader: null,
    lastHandover: null,
    lastStepDown: null,
    terms: 1,
    stepDowns: 0,
    fenceRefusals: 0,
    writer: null,
    gateway: null,
    alert,
  }
  return { shard: { id, count }, status: () => status }
}

const NOW = 1_000_000
const input = (over: Partial<WorkerHealthInput>): WorkerHealthInput => ({
  pid: 42,
  shardCount: 2,
  reshards: 0,
  resharding: null,
  candidates: [candidate(0, 2, 'leading'), candidate(1, 2, 'candidate')],
  now: NOW,
  reshardGraceMs: 30_000,
  ...over,
})

/** A worker whose one shard of count 1 stopped for a move begun `ms` ago. */
const movingFor = (ms: number) =>
  input({
    shardCount: 1,
    candidates: [candidate(0, 1, 'stopped')],
    resharding: { since: NOW - ms },
  })

describe('workerHealth', () => {
  it('is ok while every shard competes, with shard 0 at the top level and every shard listed', () => {
    const { httpStatus, body } = workerHealth(input({}))
    expect(httpStatus).toBe(200)
    expect(body).toMatchObject({ status: 'ok', pid: 42, shardCount: 2, reshardingForMs: null })
    expect(body).toMatchObject({ shard: { id: 0, count: 2 }, isLeader: true, token: 7 })
    expect(body.shards.map((s) => [s.shard.id, s.state])).toEqual([
      [0, 'leading'],
      [1, 'candidate'],
    ])
  })

  it('is degraded before the shard count is settled, and when a shard stopped competing', () => {
    expect(workerHealth(input({ shardCount: null, candidates: [] }))).toMatchObject({
      httpStatus: 503,
      body: { status: 'degraded', shards: [] },
    })
    const stopped = input({ candidates: [candidate(0, 2, 'leading'), candidate(1, 2, 'stopped')] })
    expect(workerHealth(stopped)).toMatchObject({ httpStatus: 503, body: { status: 'degraded' } })
  })

  it('says resharding (200) while old shards stop for a new count, within the grace', () => {
    expect(workerHealth(movingFor(29_999))).toMatchObject({
      httpStatus: 200,
      body: { status: 'resharding', reshardingForMs: 29_999 },
    })
  })

  it('is degraded when the move takes longer than the grace, or over an alert', () => {
    expect(workerHealth(movingFor(30_000))).toMatchObject({
      httpStatus: 503,
      body: { status: 'degraded', reshardingForMs: 30_000 },
    })
    const alert = input({
      candidates: [candidate(0, 2, 'stopped'), candidate(1, 2, 'stopped', 'close 4014')],
      resharding: { since: NOW - 10 },
    })
    expect(workerHealth(alert)).toMatchObject({ httpStatus: 503, body: { status: 'degraded' } })
  })
})
