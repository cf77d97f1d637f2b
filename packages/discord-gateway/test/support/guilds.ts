import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { GuildChange, GuildVoice } from '../../src/guilds/guild-voice'
import type { Emulator } from './harness'

/** A guild of the emulator with its first voice channel. */
export interface TestGuild {
  id: string
  name: string
  voice: string
}

/** The people of the default world (not the bot). */
export function humans(emu: Emulator): string[] {
  return emu.control
    .state()
    .users.filter((u) => !u.bot)
    .map((u) => u.id)
}

/**
 * The default guild plus `extra` created ones (the bot installed, every human a member, one
 * voice channel each). Guilds created in a row get ids a millisecond or more apart, so they
 * spread over the shards.
 */
export function withGuilds(emu: Emulator, extra: number): TestGuild[] {
  const people = humans(emu)
  const owner = people[0] as string
  for (let i = 0; i < extra; i++) {
    emu.control.createGuild({
      name: `Table ${i + 2}`,
      ownerId: owner,
      members: people.filter((p) => p !== owner),
      channels: [{ name: 'Voice', type: 2 }],
    })
  }
  return emu.control.state().guilds.map((g) => ({
    id: g.id,
    name: g.name,
    voice: g.channels.find((c) => c.type === 2)?.id as string,
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
