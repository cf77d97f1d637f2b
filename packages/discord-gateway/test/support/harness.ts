import { createServer } from 'node:net'
import type { Emulator, EmulatorOptions } from '@repo/discord-emulator'
import { startEmulator } from '@repo/discord-emulator'
import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { VoiceEventSchema } from '@repo/discord-integration/contracts'
import { pino } from 'pino'
import { expect } from 'vitest'
import type { GatewaySessionStore } from '../../src/session/session-store'
import { applyVoiceEvent } from '../../src/voice/voice-mirror'
import type { VoiceFeed, VoiceFeedOptions } from '../../src/voice-feed'
import { createVoiceFeed } from '../../src/voice-feed'

export type { Emulator }

/** Fast emulator settings shared by the integration tests. */
export const EMULATOR_TIMINGS = {
  quiet: true,
  heartbeatIntervalMs: 250,
  resumeWindowMs: 30_000,
  identifyIntervalMs: 100,
}

export async function startTestEmulator(extra: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ port: 0, ...EMULATOR_TIMINGS, ...extra })
}

/** Silent unless GATEWAY_TEST_LOG=debug (etc.). */
export const testLogger = pino({ level: process.env.GATEWAY_TEST_LOG ?? 'silent' })

/** A feed wired to the emulator with test timings. */
export function feedFor(
  emu: { restBase: string; botToken: string },
  overrides: Partial<VoiceFeedOptions> & { sessionStore?: GatewaySessionStore } = {},
): VoiceFeed {
  return createVoiceFeed({
    token: emu.botToken,
    apiUrl: emu.restBase,
    logger: testLogger,
    backoff: { baseMs: 50, maxMs: 400 },
    persistIntervalMs: 100,
    timings: {
      identifySpacingMs: 150,
      defaultHeartbeatMs: 250,
      handshakeTimeoutMs: 2_000,
      helloTimeoutMs: 2_000,
      readyTimeoutMs: 3_000,
    },
    ...overrides,
  })
}

/** Polls until `check` stops throwing (or rethrows its last error after `timeoutMs`). */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 25))
    }
  }
}

/**
 * Checks that `check` keeps passing for `ms`, polling all along (fails at the first miss). Only
 * for absence (nothing reconnects, nothing identifies): anything that should happen is awaited
 * with {@link eventually}.
 */
export async function holdsFor(ms: number, check: () => void): Promise<void> {
  const until = Date.now() + ms
  do {
    check()
    await new Promise((r) => setTimeout(r, 25))
  } while (Date.now() < until)
  check()
}

type Projection = Record<string, { channelId: string; flags: string }>

function project(
  entries: {
    userId: string
    channelId: string
    selfMute: boolean
    selfDeaf: boolean
    selfVideo: boolean
    selfStream: boolean
    mute: boolean
    deaf: boolean
  }[],
): Projection {
  const out: Projection = {}
  for (const e of entries) {
    out[e.userId] = {
      channelId: e.channelId,
      flags: [e.mute, e.deaf, e.selfMute, e.selfDeaf, e.selfVideo, e.selfStream]
        .map(Number)
        .join(''),
    }
  }
  return out
}

/** The emulator's truth vs the feed's snapshot of the default guild (channel + flags per user). */
export function expectFeedEqualsTruth(emu: Emulator, feed: VoiceFeed): void {
  const truth = project(emu.control.state().voiceStates)
  expect(project(feed.snapshot(emu.guildId).members)).toEqual(truth)
}

/**
 * Records what a subscriber sees of one guild from a point on: the snapshot at subscription time
 * and every event of that guild after. `verify` checks gap-free, duplicate-free feedSeq order and that replaying the events onto the snapshot
 * gives the feed's current snapshot.
 */
export class Recorder {
  readonly initial: { feedSeq: number; members: VoiceMember[] }
  readonly events: VoiceEvent[] = []
  private readonly unsubscribe: () => void

  constructor(
    private readonly feed: VoiceFeed,
    private readonly guildId: string,
  ) {
    this.initial = feed.snapshot(guildId)
    this.unsubscribe = feed.subscribe((event) => {
      if (event.guildId === guildId) this.events.push(event)
    })
  }

  verify(): void {
    const seqs = this.events.map((e) => e.feedSeq)
    expect(seqs).toEqual(seqs.map((_, i) => this.initial.feedSeq + 1 + i))
    for (const event of this.events) VoiceEventSchema.parse(event)
    const mirror = new Map(this.initial.members.map((m) => [m.userId, m]))
    for (const event of this.events) applyVoiceEvent(mirror, event)
    const now = this.feed.snapshot(this.guildId)
    expect(now.feedSeq).toBe(this.initial.feedSeq + this.events.length)
    expect([...mirror.values()].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(
      now.members,
    )
  }

  stop(): void {
    this.unsubscribe()
  }
}

/** A TCP port that nothing listens on (yet). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The voice channels of the emulated guild. */
export function voiceChannels(emu: Emulator): string[] {
  return emu.control
    .state()
    .channels.filter((c) => c.type === 2)
    .map((c) => c.id)
}
