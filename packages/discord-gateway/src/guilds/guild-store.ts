import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import { ChannelIndex } from '../voice/channel-index'
import type { VoiceSnapshot } from '../voice/voice-mirror'
import { sortMembers } from '../voice/voice-mirror'
import type { VoiceStoreState } from '../voice/voice-state-reducer'
import { applyGuildDispatch, createVoiceStoreState } from '../voice/voice-state-reducer'
import type { GuildChange, GuildPresence } from './guild-voice'
import { shardOf } from './shard-of'

/** Where one shard's gateway session is: what its dispatches are deduplicated against. */
export interface ShardCursor {
  readonly id: number
  count: number
  /** The session the `seq` belongs to (null before the first READY). */
  sessionId: string | null
  /** The last sequence applied in `sessionId` (0 = none). */
  seq: number
  /** Guilds of the last READY that have had neither GUILD_CREATE nor GUILD_DELETE yet. */
  readonly pending: Set<string>
  /** The shard's session READY was seen (or restored) and every guild of it settled. */
  settled: boolean
}

/** A new cursor for shard `id` of `count`. */
export function createShardCursor(id: number, count: number): ShardCursor {
  return { id, count, sessionId: null, seq: 0, pending: new Set(), settled: false }
}

/** One guild: its reducer state, its channel index, what the gateway says about it. */
export interface GuildEntry {
  readonly state: VoiceStoreState
  readonly channels: ChannelIndex
  name: string
  available: boolean
  shardId: number
}

/** What one dispatch did, in the order listeners must see it. */
export type StoreStep =
  | { readonly kind: 'guild'; readonly change: GuildChange }
  | {
      readonly kind: 'voice'
      readonly guildId: string
      readonly events: readonly VoiceEvent[]
      /** Users whose stored display data the dispatch replaced. */
      readonly profilesChanged: readonly string[]
    }

/** The outcome of {@link GuildStore.apply}. */
export interface StoreResult {
  /** A replayed dispatch (or READY of the current session): nothing changed. */
  readonly duplicate: boolean
  readonly steps: readonly StoreStep[]
  /** The cursor or some guild changed (persistence is due). */
  readonly changed: boolean
}

/** Most guild removals whose last feedSeq is remembered (a guild that comes back continues it). */
const RETIRED_LIMIT = 10_000

/**
 * The voice state of every guild the bot is in, fed by every shard's dispatches. One reducer
 * state per guild (see applyGuildDispatch), one cursor per shard for the sequence numbers. The
 * store is the only writer of both; `apply` runs synchronously per dispatch, in arrival order.
 *
 * - READY starts a shard's session: its guilds are pending until GUILD_CREATE (or GUILD_DELETE
 *   `unavailable`), and known guilds of that shard missing from READY were removed meanwhile.
 * - GUILD_CREATE creates a guild or reconciles it (a diff against the kept state); a guild that
 *   was unknown or unavailable emits `guild.available` first.
 * - GUILD_DELETE `unavailable: true` keeps the state and emits `guild.unavailable`; without it the
 *   guild's members leave (`guild_removed`), then `guild.removed`, and the guild is forgotten.
 * - feedSeq is per guild and continues when a removed guild comes back.
 */
export class GuildStore {
  readonly #guilds = new Map<string, GuildEntry>()
  /** Channel id → guild id (channels are global snowflakes and never change guild). */
  readonly #channelGuild = new Map<string, string>()
  readonly #retired = new Map<string, number>()

  /** Applies one dispatch of `cursor`'s shard, in place. */
  apply(cursor: ShardCursor, payload: GatewayDispatchPayload, receivedAt: number): StoreResult {
    const s = typeof payload.s === 'number' ? payload.s : 0
    if (payload.t === GatewayDispatchEvents.Ready) {
      if (payload.d.session_id === cursor.sessionId) return DUPLICATE
      cursor.sessionId = payload.d.session_id
      cursor.seq = s
      cursor.pending.clear()
      for (const guild of payload.d.guilds) cursor.pending.add(guild.id)
      cursor.settled = cursor.pending.size === 0
      const steps: StoreStep[] = []
      // Guilds this shard owned that READY does not list: the bot was removed while away.
      for (const [guildId, entry] of [...this.#guilds].sort(byKey)) {
        if (shardOf(guildId, cursor.count) !== cursor.id || cursor.pending.has(guildId)) continue
        this.#remove(guildId, entry, receivedAt, steps)
      }
      this.#follow(cursor)
      return { duplicate: false, steps, changed: true }
    }
    if (s !== 0 && s <= cursor.seq) return DUPLICATE
    if (s !== 0) cursor.seq = s
    const advanced = s !== 0
    const steps: StoreStep[] = []
    const guildId = guildOf(payload)
    if (guildId === null) return { duplicate: false, steps, changed: advanced }
    let entry = this.#guilds.get(guildId)

    if (payload.t === GatewayDispatchEvents.GuildCreate) {
      cursor.pending.delete(guildId)
      if (payload.d.unavailable === true) {
        this.#markUnavailable(guildId, cursor, steps)
      } else {
        const wasAvailable = entry?.available === true
        entry ??= this.#create(guildId, cursor.id)
        entry.name = payload.d.name
        entry.available = true
        entry.shardId = cursor.id
        if (!wasAvailable) {
          steps.push({
            kind: 'guild',
            change: { type: 'guild.available', guildId, name: entry.name },
          })
        }
        this.#applyToGuild(entry, cursor, payload, receivedAt, steps)
      }
      this.#settle(cursor)
      return { duplicate: false, steps, changed: true }
    }
    if (payload.t === GatewayDispatchEvents.GuildDelete) {
      cursor.pending.delete(guildId)
      if (payload.d.unavailable === true) this.#markUnavailable(guildId, cursor, steps)
      else if (entry) this.#remove(guildId, entry, receivedAt, steps)
      this.#settle(cursor)
      return { duplicate: false, steps, changed: true }
    }
    if (!entry) return { duplicate: false, steps, changed: advanced }
    if (payload.t === GatewayDispatchEvents.GuildUpdate) {
      entry.name = payload.d.name
      return { duplicate: false, steps, changed: true }
    }
    this.#applyToGuild(entry, cursor, payload, receivedAt, steps)
    return { duplicate: false, steps, changed: true }
  }

  /**
   * READY's guilds that never settled within the wait (Discord sends nothing for a guild that
   * stays unavailable): they count as unavailable now, so `ready()` can resolve.
   */
  expirePending(cursor: ShardCursor): StoreStep[] {
    const steps: StoreStep[] = []
    for (const guildId of [...cursor.pending].sort()) this.#markUnavailable(guildId, cursor, steps)
    cursor.pending.clear()
    this.#settle(cursor)
    return steps
  }

  /** The shard count changed: every guild's shard is recomputed (their voice state is kept). */
  reshard(count: number): void {
    for (const [guildId, entry] of this.#guilds) entry.shardId = shardOf(guildId, count)
  }

  /** Adds a guild restored from persistence (or a Redis snapshot). */
  restore(presence: GuildPresence, state: VoiceStoreState): void {
    const entry: GuildEntry = {
      state,
      channels: ChannelIndex.of(state.members.values()),
      name: presence.name,
      available: presence.available,
      shardId: presence.shardId,
    }
    this.#guilds.set(presence.id, entry)
    for (const member of state.members.values())
      this.#channelGuild.set(member.channelId, presence.id)
  }

  get(guildId: string): GuildEntry | undefined {
    return this.#guilds.get(guildId)
  }

  /** Every guild, sorted by id. */
  entries(): [string, GuildEntry][] {
    return [...this.#guilds].sort(byKey)
  }

  guilds(): GuildPresence[] {
    return this.entries().map(([id, e]) => ({
      id,
      name: e.name,
      available: e.available,
      shardId: e.shardId,
    }))
  }

  get size(): number {
    return this.#guilds.size
  }

  channelMembers(channelId: string): VoiceMember[] {
    const guildId = this.#channelGuild.get(channelId)
    if (guildId === undefined) return []
    return this.#guilds.get(guildId)?.channels.members(channelId) ?? []
  }

  memberChannel(guildId: string, userId: string): string | null {
    return this.#guilds.get(guildId)?.state.members.get(userId)?.channelId ?? null
  }

  /** One guild's members in voice, as of its feedSeq (an unknown guild is empty at feedSeq 0). */
  snapshot(guildId: string): VoiceSnapshot {
    const state = this.#guilds.get(guildId)?.state
    return {
      guildId,
      feedSeq: state?.feedSeq ?? this.#retired.get(guildId) ?? 0,
      members: state ? sortMembers(state.members.values()) : [],
    }
  }

  #create(guildId: string, shardId: number): GuildEntry {
    const feedSeq = this.#retired.get(guildId) ?? 0
    this.#retired.delete(guildId)
    const entry: GuildEntry = {
      state: createVoiceStoreState(guildId, feedSeq),
      channels: new ChannelIndex(),
      name: '',
      available: false,
      shardId,
    }
    this.#guilds.set(guildId, entry)
    return entry
  }

  #applyToGuild(
    entry: GuildEntry,
    cursor: ShardCursor,
    payload: GatewayDispatchPayload,
    receivedAt: number,
    steps: StoreStep[],
  ): void {
    const state = entry.state
    // Already applied to this guild (a state restored from Redis can be ahead of the shard's
    // session: its record was written, the shard's sequence not yet).
    if (state.sessionId === cursor.sessionId && cursor.seq <= state.seq) return
    const result = applyGuildDispatch(state, payload, receivedAt)
    state.sessionId = cursor.sessionId
    state.seq = cursor.seq
    this.#index(entry, result.events)
    // Pushed even without events: the guild's position moved (a clustered leader records it).
    steps.push({
      kind: 'voice',
      guildId: state.guildId,
      events: result.events,
      profilesChanged: result.profilesChanged ?? [],
    })
  }

  /** The channel index follows the whole dispatch before any listener runs. */
  #index(entry: GuildEntry, events: readonly VoiceEvent[]): void {
    for (const event of events) {
      entry.channels.apply(event)
      if (event.type === 'voice.joined') this.#channelGuild.set(event.channelId, event.guildId)
    }
  }

  #markUnavailable(guildId: string, cursor: ShardCursor, steps: StoreStep[]): void {
    const entry = this.#guilds.get(guildId) ?? this.#create(guildId, cursor.id)
    entry.shardId = cursor.id
    if (!entry.available) return
    entry.available = false
    steps.push({ kind: 'guild', change: { type: 'guild.unavailable', guildId } })
  }

  #remove(guildId: string, entry: GuildEntry, receivedAt: number, steps: StoreStep[]): void {
    const result = applyGuildDispatch(
      entry.state,
      { t: GatewayDispatchEvents.GuildDelete, s: 0, op: 0, d: { id: guildId } },
      receivedAt,
      false,
    )
    this.#index(entry, result.events)
    if (result.events.length > 0) {
      steps.push({ kind: 'voice', guildId, events: result.events, profilesChanged: [] })
    }
    for (const [channelId, owner] of this.#channelGuild) {
      if (owner === guildId) this.#channelGuild.delete(channelId)
    }
    this.#guilds.delete(guildId)
    this.#retired.set(guildId, entry.state.feedSeq)
    if (this.#retired.size > RETIRED_LIMIT) {
      const oldest = this.#retired.keys().next().value
      if (oldest !== undefined) this.#retired.delete(oldest)
    }
    steps.push({ kind: 'guild', change: { type: 'guild.removed', guildId } })
  }

  /** Every guild of the shard takes the shard's session (their persisted cursor). */
  #follow(cursor: ShardCursor): void {
    for (const entry of this.#guilds.values()) {
      if (entry.shardId !== cursor.id) continue
      entry.state.sessionId = cursor.sessionId
      entry.state.seq = cursor.seq
    }
  }

  #settle(cursor: ShardCursor): void {
    if (cursor.sessionId !== null && cursor.pending.size === 0) cursor.settled = true
  }
}

const DUPLICATE: StoreResult = { duplicate: true, steps: [], changed: false }

function byKey<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/** The guild a dispatch is about, or null (READY, RESUMED, anything without one). */
function guildOf(payload: GatewayDispatchPayload): string | null {
  switch (payload.t) {
    case GatewayDispatchEvents.GuildCreate:
    case GatewayDispatchEvents.GuildDelete:
    case GatewayDispatchEvents.GuildUpdate:
      return payload.d.id
    case GatewayDispatchEvents.VoiceStateUpdate:
    case GatewayDispatchEvents.GuildMemberAdd:
    case GatewayDispatchEvents.GuildMemberUpdate:
    case GatewayDispatchEvents.GuildMemberRemove:
      return payload.d.guild_id ?? null
    case GatewayDispatchEvents.ChannelDelete:
      return 'guild_id' in payload.d && payload.d.guild_id ? payload.d.guild_id : null
    default:
      return null
  }
}
