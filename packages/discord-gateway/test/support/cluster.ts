import type { Emulator } from '@repo/discord-emulator'
import type { VoiceEvent } from '@repo/discord-integration/contracts'
import { VoiceEventSchema } from '@repo/discord-integration/contracts'
import { expect } from 'vitest'
import type {
  ClusteredVoiceFeed,
  ClusteredVoiceFeedOptions,
} from '../../src/cluster/clustered-feed'
import { createClusteredVoiceFeed } from '../../src/cluster/clustered-feed'
import type { GatewayCandidateOptions } from '../../src/cluster/gateway-candidate'
import type { VoiceEventOrigin } from '../../src/cluster/mirror-contract'
import { testLogger } from './harness'

export const PREFIX = 't:'

/** Candidate settings for in-process tests: fast polls and backoff against the emulator. */
export function candidateFor(
  emu: Emulator,
  extra: Partial<GatewayCandidateOptions> = {},
): NonNullable<Exclude<ClusteredVoiceFeedOptions['candidate'], false>> {
  return {
    token: emu.botToken,
    apiUrl: emu.restBase,
    pollMs: 100,
    backoff: { baseMs: 50, maxMs: 400 },
    timings: {
      identifySpacingMs: 150,
      defaultHeartbeatMs: 250,
      handshakeTimeoutMs: 2_000,
      helloTimeoutMs: 2_000,
      readyTimeoutMs: 3_000,
    },
    flushMs: 500,
    ...extra,
  }
}

/** A clustered feed on the test's Redis (a candidate unless `candidate: false`). */
export function clusteredFeed(
  redisUrl: string,
  emu: Emulator,
  options: { candidate?: boolean; leaseMs?: number; holderId?: string; shardCount?: number } = {},
): ClusteredVoiceFeed {
  return createClusteredVoiceFeed({
    redisUrl,
    prefix: PREFIX,
    leaseMs: options.leaseMs ?? 1_000,
    ...(options.shardCount ? { shardCount: options.shardCount } : {}),
    candidate:
      options.candidate === false
        ? false
        : candidateFor(emu, options.holderId ? { holderId: options.holderId } : {}),
    mirror: { blockMs: 500, checkMs: 200 },
    logger: testLogger,
  })
}

/** What a subscriber of a clustered feed saw, from the moment it subscribed. */
export class FeedRecorder {
  readonly events: { event: VoiceEvent; origin: VoiceEventOrigin }[] = []
  readonly resyncs: string[] = []
  readonly #off: (() => void)[] = []

  constructor(feed: ClusteredVoiceFeed) {
    this.#off.push(feed.subscribe((event, origin) => this.events.push({ event, origin })))
    this.#off.push(feed.onResync((info) => this.resyncs.push(info.reason)))
  }

  /** The stream events (not resync differences), checked against the contract. */
  streamEvents(): VoiceEvent[] {
    return this.events
      .filter((e) => e.origin.kind === 'stream')
      .map((e) => VoiceEventSchema.parse(e.event))
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off()
  }
}

/** The emulator's truth (channel + flags per user) vs a feed's snapshot. */
export function expectSnapshotEqualsTruth(
  emu: Emulator,
  feed: {
    snapshot(guildId: string): {
      members: { userId: string; channelId: string; selfMute: boolean; selfVideo: boolean }[]
    }
  },
): void {
  const truth = Object.fromEntries(
    emu.control
      .state()
      .voiceStates.map((v) => [v.userId, `${v.channelId}:${v.selfMute}:${v.selfVideo}`]),
  )
  const mine = Object.fromEntries(
    feed
      .snapshot(emu.guildId)
      .members.map((m) => [m.userId, `${m.channelId}:${m.selfMute}:${m.selfVideo}`]),
  )
  expect(mine).toEqual(truth)
}

/** Consecutive feedSeq values, each once. */
export function expectConsecutive(feedSeqs: number[]): void {
  if (feedSeqs.length === 0) return
  const first = feedSeqs[0] as number
  expect(feedSeqs).toEqual(feedSeqs.map((_, i) => first + i))
}
