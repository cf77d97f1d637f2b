import { afterEach, describe, expect, it } from 'vitest'
import type { ClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { gatewayKeys, voiceFeedKeys } from '../src/cluster/keys'
import {
  clusteredFeed,
  expectConsecutive,
  expectSnapshotEqualsTruth,
  FeedRecorder,
  PREFIX,
} from './support/cluster'
import { streamEntries } from './support/feed'
import type { Emulator } from './support/harness'
import { eventually, holdsFor, startTestEmulator, voiceChannels } from './support/harness'
import { useRedisServer } from './support/redis'

const redis = useRedisServer()
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function world() {
  const emu: Emulator = await startTestEmulator({ resumeWindowMs: 30_000 })
  cleanups.push(() => emu.close())
  const users: string[] = []
  for (let i = 0; i < 4; i++) users.push(emu.control.createUser({ username: `player${i}` }).id)
  const [lobby, table] = voiceChannels(emu) as [string, string]
  emu.control.setVoice({ userId: users[0] as string, channelId: lobby })
  emu.control.setVoice({ userId: users[1] as string, channelId: table })
  return { emu, users, lobby, table }
}

function feed(
  emu: Emulator,
  options: Parameters<typeof clusteredFeed>[2] = {},
): ClusteredVoiceFeed {
  const f = clusteredFeed(redis.url, emu, options)
  cleanups.push(() => f.stop())
  return f
}

const keys = (emu: Emulator) => ({
  gateway: gatewayKeys(PREFIX),
  feed: voiceFeedKeys(PREFIX, emu.guildId),
})

describe('gateway handover on Redis', () => {
  it('the next candidate RESUMEs the session after a graceful stop: every change once, in order, no IDENTIFY', async () => {
    const { emu, users, lobby, table } = await world()
    const first = feed(emu, { holderId: 'first' })
    await first.start()
    await first.ready(5_000)
    await eventually(() => expect(first.status().isLeader).toBe(true))
    const reader = feed(emu, { candidate: false })
    await reader.start()
    await reader.ready(5_000)
    const seen = new FeedRecorder(reader)
    const second = feed(emu, { holderId: 'second' })
    await second.start()

    emu.control.setVoice({ userId: users[2] as string, channelId: lobby })
    emu.control.setVoice({ userId: users[0] as string, channelId: lobby, selfMute: true })
    await eventually(() => expectSnapshotEqualsTruth(emu, reader))
    const token1 = first.status().candidate?.token as number
    await first.stop() // closes with 4200, flushes, releases the lease
    emu.control.setVoice({ userId: users[1] as string, channelId: null }) // while no one is connected
    await eventually(() => expect(second.status().isLeader).toBe(true))
    emu.control.setVoice({ userId: users[3] as string, channelId: table, selfVideo: true })
    await eventually(() => expectSnapshotEqualsTruth(emu, reader))

    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 1 })
    const status = second.status()
    expect(status.lastHandover).toMatchObject({ mode: 'resumed' })
    expect(status.candidate?.token).toBeGreaterThan(token1)
    await eventually(() => expect(second.status().fencingToken).toBe(status.candidate?.token))
    const entries = await streamEntries(redis.client(), keys(emu).feed)
    expectConsecutive(entries.map((e) => e.feedSeq))
    // Each change once: 2 joins from GUILD_CREATE, then join, update, leave, join.
    expect(
      entries.map((e) => `${e.event?.type}:${users.indexOf(e.event?.userId as string)}`),
    ).toEqual([
      'voice.joined:0',
      'voice.joined:1',
      'voice.joined:2',
      'voice.updated:0',
      'voice.left:1',
      'voice.joined:3',
    ])
    expect(entries.slice(0, 4).every((e) => e.token === token1)).toBe(true)
    expect(entries.slice(4).every((e) => e.token === status.candidate?.token)).toBe(true)
    // The reader saw exactly the stream from where it subscribed, and no resync.
    expect(seen.streamEvents().map((e) => e.feedSeq)).toEqual(
      entries.slice(2).map((e) => e.feedSeq),
    )
    expect(seen.resyncs).toEqual([])
  })

  it('a write refused by the fence makes the leader step down without closing the session; the next leader resumes and the refused change is written once', async () => {
    const { emu, users, lobby } = await world()
    const leader = feed(emu, { holderId: 'leader' })
    await leader.start()
    await leader.ready(5_000)
    await eventually(() => expect(leader.status().isLeader).toBe(true))
    const k = keys(emu)
    const admin = redis.client()
    // Another process takes the lease (a newer token) while this one still thinks it leads.
    const token = leader.status().candidate?.token as number
    await admin.set(k.gateway.fence, String(token + 1))
    await admin.set(k.gateway.lease, `intruder:${token + 1}`, 'PX', 60_000)
    emu.control.setVoice({ userId: users[2] as string, channelId: lobby })
    await eventually(() =>
      expect(leader.status().candidate).toMatchObject({
        fenceRefusals: 1,
        stepDowns: 1,
        isLeader: false,
      }),
    )
    expect(leader.status().candidate?.lastStepDown?.reason).toMatch(/fenced/)
    await eventually(() =>
      expect(emu.control.stats()).toMatchObject({ activeSessions: 0, sessions: 1 }),
    )
    expect((await streamEntries(admin, k.feed)).map((e) => e.event?.userId)).not.toContain(users[2])
    // The intruder goes away; this process (a candidate again) takes over and resumes.
    await admin.del(k.gateway.lease)
    await eventually(() => expect(leader.status().isLeader).toBe(true))
    await eventually(() => expectSnapshotEqualsTruth(emu, leader))
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 1 })
    const entries = await streamEntries(admin, k.feed)
    expect(entries.filter((e) => e.event?.userId === users[2])).toHaveLength(1)
    expectConsecutive(entries.map((e) => e.feedSeq))
  })

  it('a leader whose lease another process took never reopens a socket on the session: the reconnect asks Redis first', async () => {
    const { emu } = await world()
    // A long lease: its next renewal is 20 s away, so only the connection's gate can notice.
    const leader = feed(emu, { holderId: 'leader', leaseMs: 60_000 })
    await leader.start()
    await leader.ready(5_000)
    await eventually(() => expect(leader.status().isLeader).toBe(true))
    const token = leader.status().candidate?.token as number
    await redis.client().set(keys(emu).gateway.lease, `intruder:${token + 1}`, 'PX', 60_000)
    const before = emu.control.stats()
    emu.control.closeGateway(4000) // resumable: @discordjs/ws reconnects and resumes
    await eventually(() => expect(leader.status().candidate?.stepDowns).toBe(1))
    expect(leader.status().candidate?.lastStepDown?.reason).toMatch(/lease/)
    await holdsFor(1_000, () =>
      expect(emu.control.stats()).toMatchObject({
        resumes: before.resumes,
        identifies: before.identifies,
        activeSessions: 0,
        sessions: 1, // still resumable for the process that holds the lease
      }),
    )
  })

  it('a session past resuming: the new leader identifies and appends the GUILD_CREATE differences once', async () => {
    const { emu, users, lobby, table } = await world()
    const first = feed(emu, { holderId: 'first' })
    await first.start()
    await first.ready(5_000)
    await eventually(() => expect(first.status().isLeader).toBe(true))
    const reader = feed(emu, { candidate: false })
    await reader.start()
    await reader.ready(5_000)
    const seen = new FeedRecorder(reader)
    await first.stop()
    emu.control.restart() // Discord forgot every session
    emu.control.setVoice({ userId: users[0] as string, channelId: table }) // moved
    emu.control.setVoice({ userId: users[2] as string, channelId: lobby }) // joined
    emu.control.setVoice({ userId: users[1] as string, channelId: null }) // left
    const second = feed(emu, { holderId: 'second' })
    await second.start()
    await eventually(() => expect(second.status().lastHandover?.mode).toBe('identified'))
    await eventually(() => expectSnapshotEqualsTruth(emu, reader))
    expect(emu.control.stats().identifies).toBe(2)
    const entries = await streamEntries(redis.client(), keys(emu).feed)
    expectConsecutive(entries.map((e) => e.feedSeq))
    const diff = entries
      .slice(2)
      .map((e) => `${e.event?.type}:${users.indexOf(e.event?.userId as string)}`)
    expect(diff.sort()).toEqual(
      ['voice.joined:0', 'voice.joined:2', 'voice.left:0', 'voice.left:1'].sort(),
    )
    expect(seen.streamEvents()).toHaveLength(4) // through the stream, once, on every node
    expect(seen.resyncs).toEqual([])
  })

  it('Redis losing everything while leading: the leader takes the lease again and reseeds, no IDENTIFY, readers resync', async () => {
    const { emu, users, lobby } = await world()
    const leader = feed(emu, { holderId: 'leader' })
    await leader.start()
    await leader.ready(5_000)
    await eventually(() => expect(leader.status().isLeader).toBe(true))
    const reader = feed(emu, { candidate: false })
    await reader.start()
    await reader.ready(5_000)
    const seen = new FeedRecorder(reader)
    const epoch = reader.snapshot(emu.guildId).epoch
    const token = leader.status().candidate?.token as number
    await redis.client().flushall()
    emu.control.setVoice({ userId: users[2] as string, channelId: lobby })
    await eventually(() => expect(reader.snapshot(emu.guildId).epoch).not.toBe(epoch))
    await eventually(() => expectSnapshotEqualsTruth(emu, reader))
    expect(leader.status().candidate?.token).toBeGreaterThan(token)
    expect(leader.status().candidate?.stepDowns).toBe(0)
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 0 })
    expect(seen.resyncs).toEqual(['epoch'])
    emu.control.setVoice({ userId: users[3] as string, channelId: lobby })
    await eventually(() => expectSnapshotEqualsTruth(emu, reader))
  })
})
