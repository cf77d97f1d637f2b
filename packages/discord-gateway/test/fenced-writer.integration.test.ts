import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { WRITE_BATCH } from '../src/cluster/feed-scripts'
import type { FeedState } from '../src/cluster/fenced-writer'
import { FencedWriter } from '../src/cluster/fenced-writer'
import { gatewayKeys, ONE_SHARD, voiceFeedKeys } from '../src/cluster/keys'
import { createClusterRedis } from '../src/cluster/redis-connections'
import { GUILD, joinRecord, member, metaOf, streamEntries } from './support/feed'
import { eventually, testLogger } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const G = gatewayKeys('t:')
const F = voiceFeedKeys('t:', GUILD)
const TOKEN = 1_000

const writers: FencedWriter[] = []
afterEach(() => {
  for (const w of writers.splice(0)) w.close()
})

/** A writer at TOKEN (the fence says so) on its own command connection, recording what happens. */
async function writerFor(client: Redis, options: { maxQueue?: number } = {}) {
  const state: FeedState = {
    sessionId: 's1',
    seq: 0,
    resumeURL: 'ws://127.0.0.1:1',
    feedSeq: 0,
    synced: false,
    members: [],
    profiles: [],
  }
  const events = { fenced: [] as string[], overflow: [] as number[] }
  let current = state
  const writer = new FencedWriter({
    redis: client,
    gatewayKeys: G,
    feedKeys: F,
    shard: ONE_SHARD,
    token: TOKEN,
    epoch: null,
    streamMaxLen: 1_000,
    maxQueue: options.maxQueue ?? 100,
    backoff: { baseMs: 20, maxMs: 100 },
    logger: testLogger,
    state: () => current,
    onFenced: (fence) => events.fenced.push(fence),
    onOverflow: (n) => events.overflow.push(n),
  })
  writers.push(writer)
  // A leader on an empty Redis writes its (empty) state first, before any dispatch.
  writer.reseed('no feed in Redis')
  await writer.idle()
  return {
    writer,
    events,
    setState(next: Partial<FeedState>) {
      current = { ...current, ...next }
    },
  }
}

async function fence(token = TOKEN) {
  await redis.client().set(G.fence, String(token))
}

describe('FencedWriter', () => {
  it('reseeds an empty Redis first, then appends records in order with the snapshot, meta and session in the same script', async () => {
    await fence()
    const { writer } = await writerFor(createClusterRedis(redis.url, 'commands'))
    for (let i = 1; i <= 5; i++) writer.push(joinRecord('s1', i, i, `20000000000000000${i}`))
    await writer.idle()
    const client = redis.client()
    const entries = await streamEntries(client, F)
    expect(entries.map((e) => [e.feedSeq, e.seq, e.sessionId, e.token])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [n, n, 's1', TOKEN]),
    )
    const meta = await metaOf(client, F)
    expect(meta).toMatchObject({
      epoch: writer.epoch,
      lastId: entries.at(-1)?.id,
      feedSeq: '5',
      sessionId: 's1',
      seq: '5',
      synced: '1',
    })
    expect(entries.every((e) => e.epoch === writer.epoch)).toBe(true)
    expect(Object.keys(await client.hgetall(F.members))).toHaveLength(5)
    expect(Object.keys(await client.hgetall(F.profiles))).toHaveLength(5)
    expect(await client.hgetall(G.session)).toMatchObject({
      sessionId: 's1',
      seq: '5',
      resumeURL: 'ws://127.0.0.1:1',
      shardId: '0',
      shardCount: '1',
      token: String(TOKEN),
    })
    expect(writer.stats()).toMatchObject({ entries: 5, reseeds: 1, fenced: 0, pending: 0 })
  })

  it('a stale token writes nothing and closes the writer (onFenced)', async () => {
    await fence()
    const { writer, events } = await writerFor(createClusterRedis(redis.url, 'commands'))
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    await fence(TOKEN + 1) // a newer leader
    writer.push(joinRecord('s1', 2, 2, '200000000000000002'))
    await eventually(() => expect(events.fenced).toEqual([String(TOKEN + 1)]))
    expect(writer.closed).toBe(true)
    expect((await streamEntries(redis.client(), F)).map((e) => e.feedSeq)).toEqual([1])
    expect(await redis.client().hget(F.meta, 'seq')).toBe('1')
    writer.push(joinRecord('s1', 3, 3, '200000000000000003')) // ignored once closed
    expect(writer.stats()).toMatchObject({ fenced: 1, pending: 0 })
  })

  it('a reshard fences the old count: once the shard count moved on, its current token writes nothing', async () => {
    await fence()
    const client = redis.client()
    await client.set(G.shardCount, '1')
    const { writer, events } = await writerFor(createClusterRedis(redis.url, 'commands'))
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    expect(events.fenced).toEqual([])
    await client.set(G.shardCount, '2') // another node resharded; the fence itself is unchanged
    writer.push(joinRecord('s1', 2, 2, '200000000000000002'))
    await eventually(() => expect(events.fenced).toEqual(['shard count 2']))
    expect(writer.closed).toBe(true)
    expect((await streamEntries(client, F)).map((e) => e.feedSeq)).toEqual([1])
    expect(await client.hget(F.meta, 'seq')).toBe('1')
    expect(await client.hget(G.session, 'seq')).toBe('1')
  })

  it('the script applies a batch once: a retry is a duplicate, a replayed (session, seq) is skipped', async () => {
    await fence()
    const { writer } = await writerFor(createClusterRedis(redis.url, 'commands'))
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    const client = redis.client()
    const epoch = writer.epoch as string
    const keys = [G.fence, F.stream, F.members, F.profiles, F.meta, G.session, G.shardCount]
    const batch = (n: number, records: ReturnType<typeof joinRecord>[]) =>
      JSON.stringify({
        epoch,
        n,
        updatedAt: '1',
        shard: [0, 1],
        records: records.map((r) => ({
          sessionId: r.sessionId,
          seq: String(r.seq),
          synced: r.synced,
          resumeURL: '',
          events: r.events.map((e) => ({ json: JSON.stringify(e), feedSeq: String(e.feedSeq) })),
          members: r.members.map(([id, m]) => [id, m ? JSON.stringify(m) : '']),
          profiles: [],
        })),
      })
    const two = batch(50, [joinRecord('s1', 2, 2, '200000000000000002')])
    expect(await WRITE_BATCH.run(client, keys, [String(TOKEN), two, 1000])).toEqual([
      'ok',
      expect.any(String),
      1,
      0,
      1,
    ])
    expect(await WRITE_BATCH.run(client, keys, [String(TOKEN), two, 1000])).toEqual([
      'duplicate',
      expect.any(String),
    ])
    // Discord's replay after a resume: seq 2 is in already, seq 3 is new.
    const replay = batch(51, [
      joinRecord('s1', 2, 2, '200000000000000002'),
      joinRecord('s1', 3, 3, '200000000000000003'),
    ])
    expect(await WRITE_BATCH.run(client, keys, [String(TOKEN), replay, 1000])).toEqual([
      'ok',
      expect.any(String),
      1,
      1,
      1,
    ])
    expect((await streamEntries(client, F)).map((e) => e.feedSeq)).toEqual([1, 2, 3])
    // A new event that does not follow meta's feedSeq is refused whole.
    const hole = batch(52, [joinRecord('s1', 4, 9, '200000000000000004')])
    expect(await WRITE_BATCH.run(client, keys, [String(TOKEN), hole, 1000])).toEqual([
      'diverged',
      'feedSeq',
    ])
    expect((await streamEntries(client, F)).map((e) => e.feedSeq)).toEqual([1, 2, 3])
  })

  it('while Redis does not answer, records wait and then go out once, in order', async () => {
    await fence()
    const { writer } = await writerFor(
      createClusterRedis(redis.url, 'commands', { commandTimeoutMs: 200 }),
    )
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    const admin = redis.client()
    await admin.client('PAUSE', 1_000, 'ALL') // writes time out on the client; the paused ones still run later
    for (let i = 2; i <= 8; i++) writer.push(joinRecord('s1', i, i, `20000000000000000${i}`))
    await eventually(() => expect(writer.stats().retries).toBeGreaterThan(0), 3_000)
    await writer.idle()
    expect((await streamEntries(admin, F)).map((e) => e.feedSeq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await admin.hget(F.meta, 'feedSeq')).toBe('8')
  })

  it('a full queue closes the writer (the leader steps down) instead of dropping records', async () => {
    await fence()
    const client = createClusterRedis(redis.url, 'commands', { commandTimeoutMs: 200 })
    const { writer, events } = await writerFor(client, { maxQueue: 3 })
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    client.disconnect() // unreachable: nothing leaves
    for (let i = 2; i <= 6; i++) writer.push(joinRecord('s1', i, i, `20000000000000000${i}`))
    await eventually(() => expect(events.overflow).toHaveLength(1))
    expect(writer.closed).toBe(true)
  })

  it('Redis no longer holding our feed (epoch gone) reseeds it from the leader state under a new epoch', async () => {
    await fence()
    const { writer, setState } = await writerFor(createClusterRedis(redis.url, 'commands'))
    writer.push(joinRecord('s1', 1, 1, '200000000000000001'))
    await writer.idle()
    const firstEpoch = writer.epoch
    const admin = redis.client()
    await admin.del(F.meta, F.members, F.stream) // lost (an operator, a failover to an empty replica)
    setState({
      seq: 2,
      feedSeq: 2,
      synced: true,
      members: [member('200000000000000001'), member('200000000000000002')],
    })
    writer.push(joinRecord('s1', 2, 2, '200000000000000002'))
    await eventually(() => expect(writer.stats().reseeds).toBe(2))
    await writer.idle()
    expect(writer.epoch).not.toBe(firstEpoch)
    expect(await metaOf(admin, F)).toMatchObject({
      epoch: writer.epoch,
      feedSeq: '2',
      seq: '2',
      lastId: '0-0',
    })
    expect(Object.keys(await admin.hgetall(F.members)).sort()).toEqual([
      '200000000000000001',
      '200000000000000002',
    ])
    expect(await admin.xlen(F.stream)).toBe(0)
    // And it carries on from there.
    writer.push(joinRecord('s1', 3, 3, '200000000000000003'))
    await writer.idle()
    expect((await streamEntries(admin, F)).map((e) => [e.feedSeq, e.epoch])).toEqual([
      [3, writer.epoch],
    ])
  })
})
