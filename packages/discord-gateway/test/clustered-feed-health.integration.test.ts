import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import type { VoiceReadApi } from '../src/voice/voice-mirror'
import { clusteredFeed } from './support/cluster'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function feed(emu: Emulator, options: Parameters<typeof clusteredFeed>[2]): ClusteredVoiceFeed {
  const f = clusteredFeed(redis.url, emu, options)
  cleanups.push(() => f.stop())
  return f
}

describe('clustered feed health', () => {
  it('shows who leads with which token on every node, the handover, and degraded without a leader', async () => {
    const emu = await startTestEmulator()
    cleanups.push(() => emu.close())
    const reader = feed(emu, { candidate: false, leaseMs: 500 })
    // The read API the web app's VoicePresence seam uses today (subscribe with one argument).
    const presence: Pick<VoiceReadApi, 'subscribe' | 'channelMembers'> = reader
    expect(presence.channelMembers('850078896828583958')).toEqual([])
    await reader.start()
    await eventually(() =>
      expect(reader.status()).toMatchObject({
        health: 'degraded',
        reasons: expect.arrayContaining([
          expect.stringMatching(/^no gateway leader for \d+ ms$/),
          'no complete voice snapshot yet',
        ]),
        leader: null,
        isLeader: false,
      }),
    )
    const node = feed(emu, { holderId: 'node-a', leaseMs: 500 })
    await node.start()
    await eventually(() => expect(reader.status()).toMatchObject({ health: 'ok', reasons: [] }))
    const token = node.status().candidate?.token as number
    expect(reader.status()).toMatchObject({
      leader: { holderId: 'node-a', token },
      fencingToken: token,
      isLeader: false,
      candidate: null,
      lag: { entries: 0, ms: 0 },
      leaderChanges: 1,
    })
    // A read-only node learns the handover from Redis (the leader records it, fenced).
    await eventually(() =>
      expect(reader.status().lastHandover).toMatchObject({
        holderId: 'node-a',
        token,
        mode: 'identified',
        durationMs: expect.any(Number),
        at: expect.any(Number),
      }),
    )
    await eventually(() =>
      expect(node.status()).toMatchObject({
        health: 'ok',
        isLeader: true,
        fencingToken: token,
        lastHandover: { mode: 'identified', token, durationMs: expect.any(Number) },
      }),
    )
    await node.stop()
    await eventually(() =>
      expect(reader.status().reasons).toEqual([
        expect.stringMatching(/^no gateway leader for \d+ ms$/),
      ]),
    )
    expect(reader.status()).toMatchObject({ health: 'degraded', leader: null })
    // The last handover stays known after the leader is gone.
    expect(reader.status().lastHandover).toMatchObject({ holderId: 'node-a', token })
  })
})
