import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { GatewayState } from '../src/gateway-status'
import { FileSessionStore } from '../src/session/file-session-store'
import { recordingClock } from './support/clock'
import type { Emulator } from './support/harness'
import {
  eventually,
  expectFeedEqualsTruth,
  feedFor,
  freePort,
  Recorder,
  voiceChannels,
} from './support/harness'
import { capturingLogger, expectNoRepeatedKeys } from './support/logs'
import { useFeedCleanups } from './support/test-cleanups'

const { emulator, track } = useFeedCleanups()

function people(emu: Emulator): { users: string[]; channels: string[] } {
  const users = emu.control
    .state()
    .users.filter((u) => !u.bot)
    .map((u) => u.id)
  return { users, channels: voiceChannels(emu) }
}

describe('feed lifecycle against the emulator', () => {
  it('a restarted process resumes the persisted session (no IDENTIFY) and replays what happened meanwhile', async () => {
    const emu = await emulator()
    const { users, channels } = people(emu)
    const [u0, u1, u2] = users as [string, string, string]
    const [c0, c1] = channels as [string, string]
    const dir = await mkdtemp(join(tmpdir(), 'gw-restart-'))
    const path = join(dir, 'session.json')
    emu.control.setVoice({ userId: u0, channelId: c0 })

    const first = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    await first.start()
    await first.ready(5_000)
    emu.control.setVoice({ userId: u1, channelId: c0 })
    await eventually(() => expectFeedEqualsTruth(emu, first))
    const lastFeedSeq = first.snapshot(emu.guildId).feedSeq
    await first.stop()
    expect(emu.control.stats().identifies).toBe(1)

    // changes while no process is connected
    emu.control.setVoice({ userId: u0, channelId: c1 })
    emu.control.setVoice({ userId: u1, channelId: c0, selfVideo: true })
    emu.control.setVoice({ userId: u2, channelId: c1 })

    const second = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    const rec = new Recorder(second, emu.guildId) // before start: sees the persisted snapshot only after start
    await second.start()
    expect(second.snapshot(emu.guildId).feedSeq).toBe(lastFeedSeq) // restored before connecting
    await second.ready(1_000)
    await eventually(() => expectFeedEqualsTruth(emu, second))
    expect(emu.control.stats().identifies).toBe(1)
    expect(emu.control.stats().resumes).toBe(1)
    const types = rec.events.map(
      (e) => `${e.type}:${e.userId === u0 ? 'u0' : e.userId === u1 ? 'u1' : 'u2'}`,
    )
    expect(types).toEqual([
      'voice.left:u0',
      'voice.joined:u0',
      'voice.updated:u1',
      'voice.joined:u2',
    ])
    expect(rec.events[0]?.feedSeq).toBe(lastFeedSeq + 1)
    const recFromStart = new Recorder(second, emu.guildId)
    emu.control.setVoice({ userId: u2, channelId: null })
    await eventually(() => expectFeedEqualsTruth(emu, second))
    recFromStart.verify()
  })

  it('a restart after the session expired re-identifies and reconciles from the persisted state', async () => {
    const emu = await emulator()
    const { users, channels } = people(emu)
    const path = join(await mkdtemp(join(tmpdir(), 'gw-expired-')), 'session.json')
    emu.control.setVoice({ userId: users[0] as string, channelId: channels[0] as string })
    const first = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    await first.start()
    await first.ready(5_000)
    const before = first.snapshot(emu.guildId)
    await first.stop()
    emu.control.restart() // sessions forgotten
    emu.control.setVoice({ userId: users[0] as string, channelId: null })
    emu.control.setVoice({ userId: users[1] as string, channelId: channels[0] as string })
    const second = track(feedFor(emu, { sessionStore: new FileSessionStore(path) }))
    await second.start()
    const rec = new Recorder(second, emu.guildId)
    expect(rec.initial).toEqual({
      guildId: emu.guildId,
      feedSeq: before.feedSeq,
      members: before.members,
    })
    await eventually(() => expectFeedEqualsTruth(emu, second))
    expect(emu.control.stats().identifies).toBe(2)
    expect(rec.events.map((e) => e.type === 'voice.left' && e.reason)).toContain('resync')
    rec.verify()
  })

  it('REST down at start-up: keeps retrying with backoff, then connects when the API comes up', async () => {
    const port = await freePort()
    const token = 'MTAwMDAwMDAwMDAwMDAwMDAw.AAAAAA.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
    const probe = await emulator()
    const botToken = probe.botToken
    expect(botToken).not.toBe(token)
    const states: GatewayState[] = []
    const feed = track(feedFor({ restBase: `http://127.0.0.1:${port}/api`, botToken }))
    feed.onStatus(({ to }) => states.push(to))
    await feed.start() // must not reject
    await eventually(() => {
      expect(states).toContain('backing_off')
      expect(feed.status().lastError).not.toBeNull()
    })
    const emu = await emulator({ port })
    const { users, channels } = people(emu)
    emu.control.setVoice({ userId: users[0] as string, channelId: channels[0] as string })
    await feed.ready(8_000)
    await eventually(() => expectFeedEqualsTruth(emu, feed))
    expect(feed.status().state).toBe('ready')
    expect(emu.control.stats().identifies).toBe(1)
  })

  it('429s on GET /gateway/bot at start-up are waited out', async () => {
    const emu = await emulator()
    emu.control.restFault({
      method: 'GET',
      path: '/gateway/bot',
      status: 429,
      count: 3,
      retryAfter: 0.2,
    })
    const { users, channels } = people(emu)
    emu.control.setVoice({ userId: users[0] as string, channelId: channels[0] as string })
    const feed = track(feedFor(emu))
    await feed.start()
    await feed.ready(8_000)
    await eventually(() => expectFeedEqualsTruth(emu, feed))
    expect(emu.control.stats().identifies).toBe(1)
    expect(emu.control.stats().pendingFaults).toBe(0)
  })

  it('the identify budget breaker stops IDENTIFY below the minimum and raises an alert', async () => {
    const emu = await emulator({ sessionStartLimit: 12 })
    const { logger, lines } = capturingLogger()
    const { clock, sleeps } = recordingClock()
    const feed = track(feedFor(emu, { logger, clock, identifyBudget: { minRemaining: 10 } }))
    await feed.start()
    await feed.ready(5_000)
    expect(feed.status().identifyBudget).toMatchObject({ total: 12 })
    emu.control.closeGateway(4007) // remaining 11 -> identify -> 10
    await eventually(() => expect(emu.control.stats().identifies).toBe(2))
    await eventually(() => expect(feed.status().state).toBe('ready'))
    emu.control.closeGateway(4007) // remaining 10 -> identify -> 9 (still allowed: 10 >= 10)
    await eventually(() => expect(emu.control.stats().identifies).toBe(3))
    await eventually(() => expect(feed.status().state).toBe('ready'))
    emu.control.closeGateway(4007) // remaining 9 < 10: breaker opens
    await eventually(() => expect(feed.status().alert?.reason).toContain('identify budget'))
    expect(lines.filter((line) => line.alert === true)).toEqual([
      expect.objectContaining({ level: 50, msg: expect.stringContaining('identify budget') }),
    ])
    expect(feed.status().state).toBe('backing_off')
    // parked in the breaker's wait for the budget reset (the emulator's is a day away)
    await eventually(() => expect(Math.max(...sleeps)).toBeGreaterThan(3_600_000))
    expect(emu.control.stats().identifies).toBe(3)
  })

  it('the watchdog forces a resume on a silent socket', async () => {
    const emu = await emulator()
    const { logger, lines } = capturingLogger()
    // watchdog at 1 interval fires before @discordjs/ws's own zombie check (2 intervals)
    const feed = track(feedFor(emu, { logger, watchdog: { intervals: 1 } }))
    await feed.start()
    await feed.ready(5_000)
    const before = emu.control.stats()
    emu.control.setHeartbeatAcks(false)
    await eventually(() => expect(lines.some((l) => l.msg?.startsWith('watchdog'))).toBe(true))
    emu.control.setHeartbeatAcks(true)
    const { users, channels } = people(emu)
    emu.control.setVoice({ userId: users[0] as string, channelId: channels[0] as string })
    await eventually(() => {
      expect(feed.status().state).toBe('ready')
      expectFeedEqualsTruth(emu, feed)
    })
    expect(emu.control.stats().identifies).toBe(before.identifies)
    expect(emu.control.stats().resumes).toBeGreaterThan(before.resumes)
  })

  it('no log line repeats a key under a logger that already binds component (as the web app hands in)', async () => {
    const emu = await emulator()
    const { logger, lines, raw } = capturingLogger()
    const feed = track(feedFor(emu, { logger: logger.child({ component: 'gateway' }) }))
    await feed.start()
    await feed.ready(5_000)
    emu.control.closeGateway(4000)
    await eventually(() => expect(emu.control.stats().resumes).toBe(1))
    await eventually(() => expect(feed.status().state).toBe('ready'))
    await feed.stop()
    expect(lines.length).toBeGreaterThan(3)
    expectNoRepeatedKeys(raw)
    for (const line of lines) expect(line).toMatchObject({ component: 'gateway' })
    // The connection's lines name their shard (the feed serves every guild of it).
    expect(lines.filter((l) => l.shardId === 0 && l.shardCount === 1).length).toBeGreaterThan(3)
  })
})
