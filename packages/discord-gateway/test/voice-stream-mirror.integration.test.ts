import { startTcpProxy, type TcpProxy } from '@repo/process-harness'
import { afterEach, describe, expect, it } from 'vitest'
import type { FeedState } from '../src/cluster/fenced-writer'
import { FencedWriter } from '../src/cluster/fenced-writer'
import { gatewayKeys, ONE_SHARD, voiceFeedKeys } from '../src/cluster/keys'
import type { ResyncInfo, VoiceEventOrigin } from '../src/cluster/mirror-contract'
import { createClusterRedis } from '../src/cluster/redis-connections'
import { StreamReader } from '../src/cluster/stream-reader'
import { VoiceStreamMirror } from '../src/cluster/voice-stream-mirror'
import { GUILD, joinRecord, member, streamEntries } from './support/feed'
import { eventually, holdsFor, testLogger } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const G = gatewayKeys('t:')
const F = voiceFeedKeys('t:', GUILD)
const TOKEN = 7
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const user = (n: number) => `2000000000000000${String(n).padStart(2, '0')}`

/** A stand-in leader: a fenced writer whose state follows the join records it writes. */
async function leader() {
  await redis.client().set(G.fence, String(TOKEN))
  const members = new Map<string, ReturnType<typeof member>>()
  let seq = 0
  let feedSeq = 0
  const state = (): FeedState => ({
    sessionId: 's1',
    seq,
    resumeURL: 'ws://127.0.0.1:1',
    feedSeq,
    synced: true,
    members: [...members.values()],
    profiles: [],
  })
  const client = createClusterRedis(redis.url, 'commands')
  const writer = new FencedWriter({
    redis: client,
    gatewayKeys: G,
    feedKeys: F,
    shard: ONE_SHARD,
    token: TOKEN,
    epoch: null,
    streamMaxLen: 100_000,
    maxQueue: 10_000,
    logger: testLogger,
    state,
    onFenced: () => {},
    onOverflow: () => {},
  })
  cleanups.push(() => {
    writer.close()
    client.disconnect()
  })
  writer.reseed('test')
  await writer.idle()
  return {
    writer,
    /** Joins `count` new users, one record each. */
    async join(count: number) {
      for (let i = 0; i < count; i++) {
        seq++
        feedSeq++
        const record = joinRecord('s1', seq, feedSeq, user(members.size))
        members.set(
          record.members[0]?.[0] as string,
          record.members[0]?.[1] as ReturnType<typeof member>,
        )
        writer.push(record)
      }
      await writer.idle()
    },
    /** Changes the truth without writing it (what a reseed will carry). */
    forget(userId: string) {
      members.delete(userId)
    },
    members,
  }
}

/**
 * A guild's mirror driven by a StreamReader of its stream alone (GuildsMirror drives every
 * guild's in one reader); the reader's blocking connection goes through `port` when given.
 */
function mirrorOn(port: number | null = null, options: { checkMs?: number } = {}) {
  const url = port === null ? redis.url : `redis://127.0.0.1:${port}`
  const commands = createClusterRedis(redis.url, 'commands')
  const mirror: VoiceStreamMirror = new VoiceStreamMirror({
    guildId: GUILD,
    keys: F,
    redis: commands,
    checkMs: options.checkMs ?? 100,
    wake: () => reader.wake(),
    logger: testLogger,
  })
  const reader: StreamReader = new StreamReader({
    redis: commands,
    blocking: createClusterRedis(url, 'blocking'),
    blockMs: 300,
    count: 500,
    backoff: { baseMs: 20, maxMs: 200 },
    prepare: async () => {
      if (mirror.needsLoad()) await mirror.load()
    },
    positions: () => {
      const position = mirror.position()
      return position ? [position] : []
    },
    apply: (entries) => mirror.applyEntries(entries.get(F.stream) ?? []),
    onError: (error) => mirror.readFailed(error),
  })
  const start = async () => {
    await mirror.start()
    reader.start()
  }
  const seen: { type: string; userId: string; origin: VoiceEventOrigin }[] = []
  const resyncs: ResyncInfo[] = []
  mirror.subscribe((event, origin) => seen.push({ type: event.type, userId: event.userId, origin }))
  mirror.onResync((info) => resyncs.push(info))
  cleanups.push(async () => {
    await reader.stop()
    await mirror.stop()
    commands.disconnect()
  })
  return { mirror, start, seen, resyncs }
}

async function proxied(): Promise<TcpProxy> {
  const proxy = await startTcpProxy(redis.server.port)
  cleanups.push(() => proxy.close())
  return proxy
}

const ids = (members: { userId: string }[]) => members.map((m) => m.userId).sort()

describe('VoiceStreamMirror', () => {
  it('starts from the snapshot and follows the stream, each event with its entry id', async () => {
    const l = await leader()
    await l.join(3)
    const { mirror, start, seen, resyncs } = mirrorOn()
    await start()
    await mirror.ready(2_000)
    expect(ids(mirror.snapshot().members)).toEqual([user(0), user(1), user(2)])
    await l.join(2)
    await eventually(() => expect(seen).toHaveLength(2))
    const entries = await streamEntries(redis.client(), F)
    expect(seen.map((s) => s.origin)).toEqual(
      entries.slice(3).map((e) => ({ kind: 'stream', epoch: e.epoch, id: e.id })),
    )
    expect(mirror.snapshot()).toMatchObject({
      feedSeq: 5,
      lastId: entries[4]?.id,
      epoch: l.writer.epoch,
    })
    expect(mirror.memberChannel(user(4))).toBe(member(user(4)).channelId)
    expect(ids(mirror.channelMembers(member(user(0)).channelId))).toHaveLength(5)
    expect(resyncs).toEqual([])
    expect(mirror.status()).toMatchObject({ state: 'following', ready: true, resyncs: 0 })
  })

  it('measures its lag while it cannot read, then catches up', async () => {
    const l = await leader()
    await l.join(2)
    const proxy = await proxied()
    const { mirror, start, seen } = mirrorOn(proxy.port)
    await start()
    await mirror.ready(2_000)
    proxy.freeze() // the reader's connection hangs (no reset); the check still reaches Redis
    await l.join(3)
    await eventually(() => expect(mirror.status().lag.entries).toBe(3))
    await eventually(() => expect(mirror.status().lag.ms).toBeGreaterThan(100))
    proxy.thaw()
    await eventually(() => expect(mirror.status().lag).toMatchObject({ entries: 0, ms: 0 }))
    expect(seen.map((s) => s.origin.kind)).toEqual(['stream', 'stream', 'stream'])
  })

  it('caughtUp() waits until it applied what the stream held when asked, and gives up after its timeout', async () => {
    const l = await leader()
    await l.join(2)
    const proxy = await proxied()
    const { mirror, start } = mirrorOn(proxy.port)
    await start()
    await mirror.ready(2_000)
    expect(await mirror.caughtUp()).toBe(true)
    proxy.freeze() // the reader falls behind; its commands (the feed's end) still reach Redis
    await l.join(2)
    expect(await mirror.caughtUp(300)).toBe(false)
    expect(mirror.snapshot().feedSeq).toBe(2)
    // Asked while behind: resolves only once the entries of that moment are applied.
    const waiting = Promise.all([mirror.caughtUp(5_000), mirror.caughtUp(5_000)])
    await holdsFor(300, () => expect(mirror.snapshot().feedSeq).toBe(2))
    proxy.thaw()
    expect(await waiting).toEqual([true, true])
    expect(mirror.snapshot().feedSeq).toBe(4)
    expect(mirror.memberChannel(user(3))).toBe(member(user(3)).channelId)
  })

  it('a stream trimmed past it is a gap: reload, the differences marked resync, onResync', async () => {
    const l = await leader()
    await l.join(5)
    const proxy = await proxied()
    // No periodic check: the entry after the gap alone must reveal it.
    const { mirror, start, seen, resyncs } = mirrorOn(proxy.port, { checkMs: 60_000 })
    await start()
    await mirror.ready(2_000)
    proxy.freeze()
    await l.join(1) // the reader's pending XREAD answers with this one (it waits in the proxy)
    await l.join(3)
    await redis.client().xtrim(F.stream, 'MAXLEN', 1) // only the newest entry is left
    proxy.thaw()
    await eventually(() => expect(resyncs.map((r) => r.reason)).toEqual(['gap']))
    await eventually(() =>
      expect(ids(mirror.snapshot().members)).toEqual(ids([...l.members.values()])),
    )
    // The events the stream could not give were emitted as local differences, once.
    const joined = seen.filter((s) => s.type === 'voice.joined').map((s) => s.userId)
    expect(new Set(joined).size).toBe(joined.length)
    expect(joined.sort()).toEqual([user(5), user(6), user(7), user(8)])
    expect(resyncs[0]?.changes).toBe(seen.filter((s) => s.origin.kind === 'resync').length)
    await l.join(1)
    await eventually(() =>
      expect(seen.at(-1)).toMatchObject({ userId: user(9), origin: { kind: 'stream' } }),
    )
  })

  it('an epoch change without any new entry is found by the check: reload and resync', async () => {
    const l = await leader()
    await l.join(3)
    const { mirror, start, seen, resyncs } = mirrorOn()
    await start()
    await mirror.ready(2_000)
    l.forget(user(1))
    l.writer.reseed('test: a new epoch') // no XADD: only meta changes
    await l.writer.idle()
    await eventually(() => expect(resyncs.map((r) => r.reason)).toEqual(['epoch']))
    expect(mirror.snapshot().epoch).toBe(l.writer.epoch)
    expect(seen).toEqual([
      {
        type: 'voice.left',
        userId: user(1),
        origin: { kind: 'resync', epoch: l.writer.epoch, id: '0-0' },
      },
    ])
  })

  it('while Redis has no feed it serves its last state (stale), and resyncs once a leader rebuilt it', async () => {
    const l = await leader()
    await l.join(3)
    const { mirror, start, resyncs } = mirrorOn()
    await start()
    await mirror.ready(2_000)
    const before = mirror.snapshot().members
    await redis.server.restart() // no persistence: everything is gone
    await eventually(() => expect(mirror.status().state).toBe('stale'), 5_000)
    await holdsFor(300, () => expect(mirror.snapshot().members).toEqual(before))
    expect(resyncs).toEqual([])
    // A leader writes the feed again (here: the same fake leader with its fence back).
    await redis.client().set(G.fence, String(TOKEN))
    l.forget(user(0))
    l.writer.reseed('Redis lost the feed')
    await eventually(() => expect(resyncs.map((r) => r.reason)).toEqual(['epoch']), 5_000)
    expect(mirror.status().state).toBe('following')
    expect(ids(mirror.snapshot().members)).toEqual([user(1), user(2)])
    expect(mirror.status().errors).toBeGreaterThan(0)
  })

  it('leaves out members and entries Redis holds that do not parse, and reloads instead of guessing', async () => {
    const l = await leader()
    await l.join(2)
    const admin = redis.client()
    await admin.hset(F.members, '999', '{"not":"a member"}')
    const { mirror, start, resyncs } = mirrorOn()
    await start()
    await mirror.ready(2_000)
    expect(ids(mirror.snapshot().members)).toEqual([user(0), user(1)])
    expect(mirror.status().invalid).toBe(1)
    await admin.xadd(F.stream, '*', 'epoch', l.writer.epoch as string, 'event', 'garbage')
    await eventually(() => expect(resyncs.map((r) => r.reason)).toContain('gap'))
    expect(mirror.status().invalid).toBeGreaterThan(1)
  })
})
