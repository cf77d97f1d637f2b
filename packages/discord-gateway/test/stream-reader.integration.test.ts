import { startTcpProxy } from '@repo/process-harness'
import { afterEach, describe, expect, it } from 'vitest'
import { connected, createClusterRedis } from '../src/cluster/redis-connections'
import { StreamReader } from '../src/cluster/stream-reader'
import { eventually, testLogger } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A reader of the stream `s` through `port` (its blocking connection), recording each turn. */
function readerOn(port: number, blockMs: number) {
  const commands = createClusterRedis(redis.url, 'commands')
  let lastId = '0-0'
  const read: string[] = []
  const errors: unknown[] = []
  let turns = 0
  const blocking = createClusterRedis(`redis://127.0.0.1:${port}`, 'blocking', {
    logger: testLogger,
  })
  const reader = new StreamReader({
    redis: commands,
    blocking,
    blockMs,
    count: 100,
    backoff: { baseMs: 20, maxMs: 200 },
    prepare: async () => {
      turns++
    },
    positions: () => [{ key: 's', id: lastId }],
    apply: (entries) => {
      for (const [id, fields] of (entries.get('s') ?? []) as [string, string[]][]) {
        lastId = id
        read.push(fields[1] as string)
      }
    },
    onError: (error) => errors.push(error),
  })
  cleanups.push(async () => {
    await reader.stop()
    commands.disconnect()
  })
  return { reader, blocking, read, errors, turns: () => turns }
}

describe('StreamReader', () => {
  it('replaces a blocking connection that went silent, and reads on through the new one', async () => {
    const proxy = await startTcpProxy(redis.server.port)
    cleanups.push(() => proxy.close())
    const { reader, read, errors } = readerOn(proxy.port, 300)
    reader.start()
    await redis.client().xadd('s', '*', 'n', '1')
    await eventually(() => expect(read).toEqual(['1']))
    // The open connection hangs without a reset; ioredis ends its XREAD after BLOCK + 2 s grace.
    proxy.freezeOpen()
    await redis.client().xadd('s', '*', 'n', '2')
    await eventually(() => expect(read).toEqual(['1', '2']), 8_000)
    // The new connection was awaited, not failed on.
    expect(errors.map(String)).toEqual([])
  })

  it('wake() ends a pending XREAD at once, and a failing Redis is retried', async () => {
    const proxy = await startTcpProxy(redis.server.port)
    cleanups.push(() => proxy.close())
    const { reader, blocking, read, errors, turns } = readerOn(proxy.port, 60_000)
    await connected(blocking)
    reader.start()
    await eventually(() => expect(turns()).toBe(1))
    // Give the XREAD time to be pending on the server, then wake it: a second turn, long before
    // its 60 s BLOCK would end.
    await eventually(async () => {
      await reader.wake()
      expect(turns()).toBeGreaterThan(1)
    })
    expect(errors).toEqual([])
    proxy.cut() // the blocking connection fails: an error, then a retry after the backoff
    await eventually(() => expect(errors.length).toBeGreaterThan(0))
    await redis.client().xadd('s', '*', 'n', '3')
    await eventually(() => expect(read).toEqual(['3']))
  })
})
