import { describe, expect, it } from 'vitest'
import { createHubReceiver } from '../src/hub/hub-receiver'
import { createHubFanout, parseHubUrls } from '../src/hub/hub-targets'
import { GUILD } from './support/dispatch'
import { reducerFeed } from './support/reducer-feed'

const SECRET = 'f'.repeat(40)

/** A started reducer feed (READY and an empty GUILD_CREATE applied). */
function startedFeed() {
  const world = reducerFeed()
  world.ready()
  world.create([])
  return world
}

async function until(check: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('parseHubUrls', () => {
  it('accepts one URL or a comma-separated list, trimming blanks and duplicates', () => {
    expect(parseHubUrls('http://a:3000/api/internal/voice-events')).toEqual([
      'http://a:3000/api/internal/voice-events',
    ])
    expect(parseHubUrls(' http://a/x , https://b/x,,http://a/x ')).toEqual([
      'http://a/x',
      'https://b/x',
    ])
  })
  it('rejects an empty list and entries that are not http(s) URLs, naming them', () => {
    expect(() => parseHubUrls(' , ')).toThrow(/no URL/)
    expect(() => parseHubUrls('http://a/x,b.internal:3000')).toThrow(/b\.internal:3000/)
    expect(() => parseHubUrls('ftp://a/x')).toThrow(/ftp/)
  })
})

describe('createHubFanout: one sender per web node', () => {
  it('mirrors the feed into every node; a node that is down does not delay the others and catches up', async () => {
    const { feed, vsu } = startedFeed()
    const urls = ['http://node-a/hub', 'http://node-b/hub']
    const receivers = new Map(
      urls.map((u) => [u, createHubReceiver({ secret: SECRET, guildId: GUILD })]),
    )
    let nodeBUp = false
    const fanout = createHubFanout(feed, {
      urls,
      secret: SECRET,
      guildId: GUILD,
      backoff: { baseMs: 5, maxMs: 20 },
      random: () => 1,
      fetch: async (input, init) => {
        const url = String(input)
        if (url === urls[1] && !nodeBUp) throw new Error('connect ECONNREFUSED')
        const receiver = receivers.get(url)
        if (!receiver) throw new Error(`unknown ${url}`)
        return receiver.handle(new Request(url, init))
      },
    })
    const a = receivers.get(urls[0] as string)
    const b = receivers.get(urls[1] as string)
    if (!a || !b) throw new Error('receivers missing')
    const seen = { a: 0, b: 0 }
    a.subscribe(() => seen.a++)
    b.subscribe(() => seen.b++)
    fanout.start()
    vsu('200000000000000001', '300000000000000001')
    vsu('200000000000000002', '300000000000000001')
    await until(() => a.memberChannel('200000000000000002') === '300000000000000001')
    expect(seen.a).toBe(2)
    expect(b.synced).toBe(false)
    const stats = fanout.stats()
    expect(stats.map((s) => s.url)).toEqual(urls)
    expect(stats[1]?.stats.failures).toBeGreaterThan(0)

    nodeBUp = true
    await until(() => b.synced)
    expect(b.snapshot().members.map((m) => m.userId)).toEqual([
      '200000000000000001',
      '200000000000000002',
    ])
    vsu('200000000000000001', null)
    await fanout.flush()
    expect(a.memberChannel('200000000000000001')).toBeNull()
    expect(b.memberChannel('200000000000000001')).toBeNull()
    expect(b.snapshot().feedSeq).toBe(a.snapshot().feedSeq)
    await fanout.stop()
  })
})
