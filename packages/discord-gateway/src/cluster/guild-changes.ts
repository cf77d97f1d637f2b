import type { VoiceEvent } from '@repo/discord-integration/contracts'
import { PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import { z } from 'zod'
import type { GuildChange } from '../guilds/guild-voice'
import { pairsToObject } from './feed-codec'
import type { MirrorSnapshot, VoiceEventOrigin } from './mirror-contract'

const ChangeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('guild.available'), guildId: z.string(), name: z.string() }),
  z.object({ type: z.literal('guild.unavailable'), guildId: z.string() }),
  z.object({ type: z.literal('guild.removed'), guildId: z.string() }),
])

/**
 * One entry of the guild events stream: its id, and its change (null when it does not parse).
 * Null when the entry itself is not one (no id).
 */
export function readGuildEntry(raw: unknown): { id: string; change: GuildChange | null } | null {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return null
  const fields = pairsToObject(raw[1])
  try {
    const parsed = ChangeSchema.safeParse(JSON.parse(fields.change ?? ''))
    return { id: raw[0], change: parsed.success ? parsed.data : null }
  } catch {
    return { id: raw[0], change: null }
  }
}

type Announced = 'available' | 'unavailable' | 'removed'

/**
 * What was last announced per guild, so a change seen twice (its event, and the registry read
 * before the event arrived) is announced once. Bounded: past 10,000 guilds the oldest is forgotten.
 */
export class GuildAnnouncements {
  readonly #announced = new Map<string, Announced>()

  /** Known when this node started: nothing to announce. */
  known(guildId: string, available: boolean): void {
    this.#announced.set(guildId, available ? 'available' : 'unavailable')
  }

  /** Records `change`; false when it is what was last announced for its guild. */
  fresh(change: GuildChange): boolean {
    const now: Announced =
      change.type === 'guild.available'
        ? 'available'
        : change.type === 'guild.unavailable'
          ? 'unavailable'
          : 'removed'
    if (this.#announced.get(change.guildId) === now) return false
    this.#announced.set(change.guildId, now)
    if (this.#announced.size > 10_000) {
      const oldest = this.#announced.keys().next().value
      if (oldest !== undefined && oldest !== change.guildId) this.#announced.delete(oldest)
    }
    return true
  }
}

/**
 * A removed guild: whoever is still in its voice leaves (`guild_removed`), after its snapshot.
 * Lazy: each event is made (and stamped `receivedAt`) when the caller takes it.
 */
export function guildRemovedEvents(
  guildId: string,
  snapshot: MirrorSnapshot,
): { events: Iterable<VoiceEvent>; origin: VoiceEventOrigin } {
  function* events(): Generator<VoiceEvent> {
    let feedSeq = snapshot.feedSeq
    for (const member of snapshot.members) {
      yield {
        v: PROTOCOL_VERSION,
        type: 'voice.left',
        guildId,
        channelId: member.channelId,
        userId: member.userId,
        feedSeq: ++feedSeq,
        receivedAt: Date.now(),
        reason: 'guild_removed',
      }
    }
  }
  return {
    events: events(),
    origin: { kind: 'resync', epoch: snapshot.epoch ?? '', id: snapshot.lastId },
  }
}
