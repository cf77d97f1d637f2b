import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import { createHubReceiver } from '../src/hub/hub-receiver'
import { createHubSender } from '../src/hub/hub-sender'
import {
  computeSignature,
  HUB_HEADERS,
  NonceCache,
  signHubRequest,
  verifyHubSignature,
} from '../src/hub/sign'
import { applyVoiceEvent } from '../src/voice/voice-mirror'
import { GUILD, voiceState } from './support/dispatch'
import { member, reducerFeed } from './support/reducer-feed'

const SECRET = 'x'.repeat(40)
const URL_ = 'http://hub.test/internal/voice'

function signed(
  body: string,
  opts: { timestamp?: number; nonce?: string; secret?: string } = {},
): Request {
  return new Request(URL_, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signHubRequest(opts.secret ?? SECRET, body, opts),
    },
    body,
  })
}

describe('hub signing', () => {
  it('verifies its own signature and rejects tampering, staleness and missing headers', () => {
    const now = 1_700_000_000_000
    const headers = signHubRequest(SECRET, '{"a":1}', { timestamp: now, nonce: 'n'.repeat(32) })
    const h = {
      timestamp: headers[HUB_HEADERS.timestamp] ?? null,
      nonce: headers[HUB_HEADERS.nonce] ?? null,
      signature: headers[HUB_HEADERS.signature] ?? null,
    }
    expect(h.signature).toBe(computeSignature(SECRET, String(now), 'n'.repeat(32), '{"a":1}'))
    expect(verifyHubSignature(SECRET, h, '{"a":1}', now)).toEqual({ ok: true })
    expect(verifyHubSignature(SECRET, h, '{"a":2}', now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(verifyHubSignature(`${SECRET}y`, h, '{"a":1}', now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    })
    expect(verifyHubSignature(SECRET, h, '{"a":1}', now + 60_001)).toEqual({
      ok: false,
      reason: 'stale',
    })
    expect(verifyHubSignature(SECRET, h, '{"a":1}', now - 60_001)).toEqual({
      ok: false,
      reason: 'stale',
    })
    expect(verifyHubSignature(SECRET, { ...h, nonce: null }, '{"a":1}', now)).toEqual({
      ok: false,
      reason: 'missing_headers',
    })
    expect(verifyHubSignature(SECRET, { ...h, signature: 'v1=00' }, '{"a":1}', now).ok).toBe(false)
  })

  it('nonce cache rejects reuse within its ttl', () => {
    const cache = new NonceCache(1000)
    expect(cache.use('a', 0)).toBe(true)
    expect(cache.use('a', 999)).toBe(false)
    expect(cache.use('a', 1000)).toBe(true)
  })
})

describe('hub receiver', () => {
  const A = '200000000000000001'
  const C = '300000000000000001'
  const snapshotBody = JSON.stringify({
    v: 1,
    kind: 'snapshot',
    guildId: GUILD,
    feedSeq: 4,
    members: [member(A, C)],
  })
  const eventBody = (feedSeq: number) =>
    JSON.stringify({
      v: 1,
      kind: 'events',
      guildId: GUILD,
      events: [
        {
          v: 1,
          type: 'voice.left',
          guildId: GUILD,
          channelId: C,
          userId: A,
          feedSeq,
          receivedAt: 1,
          reason: 'left',
        },
      ],
    })

  it('applies a snapshot then consecutive events; 409 on a gap; retries are idempotent', async () => {
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    expect((await receiver.handle(signed(eventBody(5)))).status).toBe(409)
    expect((await receiver.handle(signed(snapshotBody))).status).toBe(204)
    expect(receiver.channelMembers(C).map((m) => m.userId)).toEqual([A])
    const gap = await receiver.handle(signed(eventBody(7)))
    expect(gap.status).toBe(409)
    expect(await gap.json()).toEqual({ error: 'gap', feedSeq: 4 })
    const seen: number[] = []
    receiver.subscribe((e) => seen.push(e.feedSeq))
    expect((await receiver.handle(signed(eventBody(5)))).status).toBe(204)
    expect((await receiver.handle(signed(eventBody(5)))).status).toBe(204)
    expect(seen).toEqual([5])
    expect(receiver.memberChannel(A)).toBeNull()
    expect(receiver.snapshot().feedSeq).toBe(5)
  })

  it('rejects bad signatures, replays, stale requests, invalid bodies and other guilds without details', async () => {
    let now = 1_000_000
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD, now: () => now })
    const bad = await receiver.handle(
      signed(snapshotBody, { secret: 'wrong'.repeat(8), timestamp: now }),
    )
    expect(bad.status).toBe(401)
    expect(await bad.text()).toBe('{"error":"unauthorized"}')
    const request = signed(snapshotBody, { timestamp: now, nonce: 'r'.repeat(32) })
    const replay = request.clone()
    expect((await receiver.handle(request)).status).toBe(204)
    expect((await receiver.handle(replay)).status).toBe(401)
    expect((await receiver.handle(signed(snapshotBody, { timestamp: now - 61_000 }))).status).toBe(
      401,
    )
    const invalid = await receiver.handle(
      signed('{"v":1,"kind":"snapshot","members":"<script>"}', { timestamp: now }),
    )
    expect(invalid.status).toBe(400)
    expect(await invalid.text()).toBe('{"error":"invalid_body"}')
    expect((await receiver.handle(signed('not json', { timestamp: now }))).status).toBe(400)
    const other = snapshotBody.replace(GUILD, '100000000000000009')
    expect((await receiver.handle(signed(other, { timestamp: now }))).status).toBe(400)
    expect((await receiver.handle(new Request(URL_, { method: 'GET' }))).status).toBe(405)
    now += 1
  })
})

describe('hub sender -> receiver', () => {
  it('sends a snapshot first, then events in order; a lost request makes it resend a snapshot', async () => {
    const world = reducerFeed()
    world.ready()
    world.create([voiceState('200000000000000001', '300000000000000001')])
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    let dropNext = false
    let calls = 0
    const sender = createHubSender(world.feed, {
      url: URL_,
      secret: SECRET,
      guildId: GUILD,
      backoff: { baseMs: 1, maxMs: 5 },
      fetch: async (input, init) => {
        calls++
        const request = new Request(input as string, init)
        if (dropNext) {
          // the receiver applies it, but the response is lost: the sender retries (idempotent)
          dropNext = false
          await receiver.handle(request)
          throw new Error('connection reset')
        }
        return receiver.handle(request)
      },
    })
    sender.start()
    await sender.flush()
    expect(receiver.snapshot().members.map((m) => m.userId)).toEqual(['200000000000000001'])
    world.vsu('200000000000000002', '300000000000000001')
    dropNext = true
    world.vsu('200000000000000002', '300000000000000001', true)
    world.vsu('200000000000000001', null)
    await sender.flush()
    expect(receiver.snapshot()).toEqual(world.feed.snapshot())
    const mirror = new Map(receiver.snapshot().members.map((m) => [m.userId, m]))
    expect(mirror).toEqual(world.members())
    expect(sender.stats().snapshots).toBe(1)
    expect(calls).toBeGreaterThan(2)
    await sender.stop()
  })

  it('resends a snapshot when the receiver lost its state (409)', async () => {
    const world = reducerFeed()
    world.ready()
    world.create([voiceState('200000000000000001', '300000000000000001')])
    let receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    const sender = createHubSender(world.feed, {
      url: URL_,
      secret: SECRET,
      guildId: GUILD,
      backoff: { baseMs: 1, maxMs: 5 },
      fetch: async (input, init) => receiver.handle(new Request(input as string, init)),
    })
    sender.start()
    await sender.flush()
    receiver = createHubReceiver({ secret: SECRET, guildId: GUILD }) // web server restarted
    world.vsu('200000000000000002', '300000000000000002')
    await sender.flush()
    expect(receiver.snapshot()).toEqual(world.feed.snapshot())
    expect(sender.stats().snapshots).toBe(2)
    const events: VoiceEvent[] = []
    receiver.subscribe((e) => events.push(e))
    world.vsu('200000000000000002', null)
    await sender.flush()
    const m = new Map(receiver.snapshot().members.map((x) => [x.userId, x]))
    for (const e of events) applyVoiceEvent(m, e)
    expect(events).toHaveLength(1)
    await sender.stop()
  })
})

describe('hub receiver: resynchronisation and limits', () => {
  const A = '200000000000000001'
  const B = '200000000000000002'
  const C1 = '300000000000000001'
  const C2 = '300000000000000002'
  const snapshot = (feedSeq: number, members: VoiceMember[]) =>
    JSON.stringify({ v: 1, kind: 'snapshot', guildId: GUILD, feedSeq, members })

  it('a later snapshot tells subscribers exactly what changed, so nothing stays frozen', async () => {
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    await receiver.handle(signed(snapshot(3, [member(A, C1), member(B, C1)])))
    const seen: string[] = []
    receiver.subscribe((e) => seen.push(`${e.type} ${e.userId} ${e.channelId}`))
    // A moved to C2, B muted, and a third user gone missing never existed: one resync.
    expect(
      (await receiver.handle(signed(snapshot(9, [member(A, C2), member(B, C1, true)])))).status,
    ).toBe(204)
    expect(seen).toEqual([
      `voice.left ${A} ${C1}`,
      `voice.joined ${A} ${C2}`,
      `voice.updated ${B} ${C1}`,
    ])
    seen.length = 0
    await receiver.handle(signed(snapshot(12, [])))
    expect(seen.sort()).toEqual([`voice.left ${A} ${C2}`, `voice.left ${B} ${C1}`].sort())
    expect(receiver.snapshot().members).toEqual([])
  })

  it('stops reading a body that grows past the limit, announced length or not', async () => {
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    const chunk = new Uint8Array(64 * 1024).fill(32)
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        if (pulled > 10_000) controller.close()
        else controller.enqueue(chunk)
      },
    })
    const request = new Request(URL_, {
      method: 'POST',
      body,
      duplex: 'half', // Node's fetch needs it for a streamed body
    })
    const response = await receiver.handle(request)
    expect(response.status).toBe(413)
    expect(pulled).toBeLessThan(100)
  })
})

describe('hub sender: bounded queue', () => {
  it('drops its queue for a fresh snapshot when the receiver is away too long', async () => {
    const world = reducerFeed()
    world.ready()
    world.create([])
    const receiver = createHubReceiver({ secret: SECRET, guildId: GUILD })
    let up = false
    const sender = createHubSender(world.feed, {
      url: URL_,
      secret: SECRET,
      guildId: GUILD,
      maxQueue: 20,
      backoff: { baseMs: 1, maxMs: 5 },
      fetch: async (input, init) => {
        if (!up) throw new Error('connection refused')
        return receiver.handle(new Request(input as string, init))
      },
    })
    sender.start()
    for (let i = 0; i < 100; i++)
      world.vsu(`2000000000000001${String(i).padStart(2, '0')}`, '300000000000000001')
    expect(sender.stats().pending).toBeLessThanOrEqual(20)
    up = true
    await sender.flush()
    expect(receiver.snapshot()).toEqual(world.feed.snapshot())
    await sender.stop()
  })
})
