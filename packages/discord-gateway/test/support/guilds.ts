import type { VoiceEvent } from '@repo/discord-integration/contracts'
import { expect } from 'vitest'
import type { GuildChange, GuildVoice } from '../../src/guilds/guild-voice'
import type { Emulator } from './harness'

/** A guild of the emulator with its first voice channel. */
export interface TestGuild {
  id: string
  name: string
  voice: string
  /** Every voice channel of the guild. */
  voices: string[]
}

/** The people of the default world (not the bot). */
export function humans(emu: Emulator): string[] {
  return emu.control
    .state()
    .users.filter((u) => !u.bot)
    .map((u) => u.id)
}

/**
 * The guilds of the emulator after creating `extra` more (the bot installed, every human a
 * member, one voice channel each). Their ids are consecutive snowflake timestamps after the
 * default guild's, so they alternate between shards: under two shards, five guilds split 3 + 2.
 */
export function withGuilds(emu: Emulator, extra: number, voiceChannels = 1): TestGuild[] {
  const people = humans(emu)
  const owner = people[0] as string
  const existing = emu.control.state().guilds.length
  const base = (BigInt(emu.guildId) >> 22n) + 1_000n
  for (let i = 0; i < extra; i++) {
    const n = existing + i
    emu.control.createGuild({
      id: String((base + BigInt(n)) << 22n),
      name: `Table ${n + 1}`,
      ownerId: owner,
      members: people.filter((p) => p !== owner),
      channels: Array.from({ length: voiceChannels }, (_, c) => ({
        name: `Voice ${c + 1}`,
        type: 2 as const,
      })),
    })
  }
  return emu.control.state().guilds.map((g) => ({
    id: g.id,
    name: g.name,
    voice: g.channels.find((c) => c.type === 2)?.id as string,
    voices: g.channels.filter((c) => c.type === 2).map((c) => c.id),
  }))
}

/** Everything a feed emits, voice and guild changes, in one ordered log. */
export class FeedLog {
  readonly entries: (
    | { kind: 'voice'; event: VoiceEvent }
    | { kind: 'guild'; change: GuildChange }
  )[] = []
  readonly #off: (() => void)[]

  constructor(feed: GuildVoice) {
    this.#off = [
      feed.subscribe((event) => this.entries.push({ kind: 'voice', event })),
      feed.onGuild((change) => this.entries.push({ kind: 'guild', change })),
    ]
  }

  voice(guildId?: string): VoiceEvent[] {
    return this.entries.flatMap((e) =>
      e.kind === 'voice' && (guildId === undefined || e.event.guildId === guildId) ? [e.event] : [],
    )
  }

  guild(): GuildChange[] {
    return this.entries.flatMap((e) => (e.kind === 'guild' ? [e.change] : []))
  }

  stop(): void {
    for (const off of this.#off) off()
  }
}

/** Checks that each guild's feedSeq runs without a gap or a repeat from `from[guildId]` on. */
export function gapFreePerGuild(events: VoiceEvent[], from: Record<string, number> = {}): boolean {
  const last = new Map<string, number>(Object.entries(from))
  for (const event of events) {
    const previous = last.get(event.guildId)
    if (previous !== undefined && event.feedSeq !== previous + 1) return false
    last.set(event.guildId, event.feedSeq)
  }
  return true
}

/** `list[i]`, or a thrown error naming what is missing. */
export function nth<T>(list: readonly T[], i: number): T {
  const value = list[i]
  if (value === undefined) throw new Error(`expected an element at ${i} of ${list.length}`)
  return value
}

/**
 * The log holds exactly `changes` ([guildId, type, userId]) as voice events, each the next feedSeq
 * of its guild after `before[guildId]`, and no guild change: nothing lost, nothing replayed.
 */
export function expectOnlyChanges(
  log: FeedLog,
  before: Record<string, number>,
  changes: [string, VoiceEvent['type'], string][],
): void {
  expect(log.guild()).toEqual([])
  expect(
    log.voice().map((e) => [e.guildId, e.type, e.userId, e.feedSeq - (before[e.guildId] ?? 0)]),
  ).toEqual(expect.arrayContaining(changes.map((c) => [...c, 1])))
  expect(log.voice()).toHaveLength(changes.length)
}
