import type { VoiceMember } from '@repo/discord-integration/contracts'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { GuildStore, ShardCursor, StoreStep } from '../guilds/guild-store'
import type { Profile } from '../voice/voice-member'
import type { FeedState } from './fenced-writer'
import type { ShardItem } from './shard-writer'

/** What {@link dispatchItems} reads (and `fed`, which it updates). */
export interface DispatchInput {
  /** The store's steps for the dispatch (or for the expiry of the READY's pending guilds). */
  readonly steps: readonly StoreStep[]
  readonly payload: GatewayDispatchPayload | null
  /** The shard's guilds after the dispatch was applied. */
  readonly store: GuildStore
  /** The shard's session and sequence (without a session, nothing is written). */
  readonly cursor: ShardCursor
  readonly resumeURL: string | null
  /** Guilds whose feed the term has restored or started; a guild new to it gets a baseline. */
  readonly fed: Set<string>
}

/**
 * One dispatch's writes, in the order the ShardWriter must make them: its guilds' voice records
 * first, then its guild list changes. The last write of the dispatch moves the shard's session
 * on; until then the voice records hold it (`holdSession`), so the session never runs ahead of
 * what Redis has.
 */
export function dispatchItems(input: DispatchInput): ShardItem[] {
  const { steps, payload, store, cursor, fed } = input
  const sessionId = cursor.sessionId
  if (sessionId === null) return []
  const items: ShardItem[] = []
  const registry = new Set<string>()
  for (const step of steps) {
    if (step.kind === 'guild') {
      registry.add(step.change.guildId)
      continue
    }
    const state = store.get(step.guildId)?.state
    const members = new Map<string, VoiceMember | null>()
    for (const event of step.events) {
      members.set(event.userId, state?.members.get(event.userId) ?? null)
    }
    const profiles: [string, Profile][] = []
    for (const userId of step.profilesChanged) {
      const profile = state?.profiles.get(userId)
      if (profile) profiles.push([userId, profile])
    }
    const first = step.events[0]
    const baseline: FeedState | undefined = fed.has(step.guildId)
      ? undefined
      : {
          sessionId: null,
          seq: 0,
          resumeURL: null,
          feedSeq: first ? first.feedSeq - 1 : (state?.feedSeq ?? 0),
          synced: false,
          members: [],
          profiles: [],
        }
    fed.add(step.guildId)
    items.push({
      kind: 'voice',
      guildId: step.guildId,
      ...(baseline ? { baseline } : {}),
      record: {
        sessionId,
        seq: cursor.seq,
        synced: state?.synced ?? true,
        resumeURL: input.resumeURL,
        events: step.events,
        members: [...members],
        profiles,
      },
    })
  }
  // A guild's name or shard may change without a change event (GUILD_CREATE, GUILD_UPDATE).
  if (
    payload &&
    (payload.t === GatewayDispatchEvents.GuildCreate ||
      payload.t === GatewayDispatchEvents.GuildUpdate)
  ) {
    registry.add(payload.d.id)
  }
  const changes = steps.flatMap((s) => (s.kind === 'guild' ? [s.change] : []))
  const guildItems: ShardItem[] = []
  for (const guildId of registry) {
    const entry = store.get(guildId)
    const presence = entry
      ? { id: guildId, name: entry.name, available: entry.available, shardId: entry.shardId }
      : null
    const own = changes.filter((c) => c.guildId === guildId)
    const announce = own.length > 0 ? own : [null]
    for (const change of announce) {
      guildItems.push({
        kind: 'guild',
        guildId,
        presence,
        change,
        sessionId,
        seq: cursor.seq,
        resumeURL: input.resumeURL,
        settled: cursor.settled,
      })
    }
  }
  if (guildItems.length > 0) {
    for (const [i, item] of items.entries()) {
      if (item.kind === 'voice')
        items[i] = { ...item, record: { ...item.record, holdSession: true } }
    }
  }
  for (const item of guildItems) {
    if (item.kind === 'guild' && item.presence === null) fed.delete(item.guildId)
  }
  return [...items, ...guildItems]
}
