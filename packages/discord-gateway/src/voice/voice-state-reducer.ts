import type { VoiceEvent, VoiceLeftReason, VoiceMember } from '@repo/discord-integration/contracts'
import { PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import type { APIBaseVoiceState, GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Profile } from './voice-member'
import { changedFlags, profileOf, toVoiceMember, UNKNOWN_PROFILE } from './voice-member'

/**
 * The voice state of one guild plus the position in the gateway stream it reflects.
 * Immutable: `reduce` returns a new state.
 */
export interface VoiceStoreState {
  readonly guildId: string
  /** The gateway session the `seq` belongs to (null before the first READY). */
  readonly sessionId: string | null
  /** The last gateway sequence number applied in `sessionId` (0 = none). */
  readonly seq: number
  /** The feedSeq of the last emitted domain event (0 = none). */
  readonly feedSeq: number
  /** True once a GUILD_CREATE snapshot (or a persisted state) has been applied. */
  readonly synced: boolean
  /** Everyone in voice, by user id. */
  readonly members: ReadonlyMap<string, VoiceMember>
  /** Last known display data per user (from GUILD_CREATE members, VSU member.user, member events). */
  readonly profiles: ReadonlyMap<string, Profile>
}

/** One dispatch as it arrived, with the moment it was received (epoch ms, sub-ms precision). */
export interface DispatchInput {
  readonly payload: GatewayDispatchPayload
  readonly receivedAt: number
}

/** The outcome of applying one dispatch. */
export interface ReduceResult {
  readonly state: VoiceStoreState
  readonly events: VoiceEvent[]
  /** Why the dispatch changed nothing, if it was skipped. */
  readonly skipped?: 'duplicate' | 'other_guild' | 'irrelevant'
}

/** An empty store for a guild, optionally continuing an earlier feedSeq. */
export function createVoiceStoreState(guildId: string, feedSeq = 0): VoiceStoreState {
  return {
    guildId,
    sessionId: null,
    seq: 0,
    feedSeq,
    synced: false,
    members: new Map(),
    profiles: new Map(),
  }
}

/** Builds events with consecutive feedSeq numbers on top of a state's feedSeq. */
class EventBuilder {
  readonly events: VoiceEvent[] = []
  constructor(
    private readonly guildId: string,
    private feedSeq: number,
    private readonly receivedAt: number,
  ) {}

  get lastFeedSeq(): number {
    return this.feedSeq
  }

  joined(member: VoiceMember): void {
    this.events.push({
      v: PROTOCOL_VERSION,
      type: 'voice.joined',
      guildId: this.guildId,
      channelId: member.channelId,
      userId: member.userId,
      feedSeq: ++this.feedSeq,
      receivedAt: this.receivedAt,
      member,
    })
  }

  left(member: VoiceMember, reason: VoiceLeftReason): void {
    this.events.push({
      v: PROTOCOL_VERSION,
      type: 'voice.left',
      guildId: this.guildId,
      channelId: member.channelId,
      userId: member.userId,
      feedSeq: ++this.feedSeq,
      receivedAt: this.receivedAt,
      reason,
    })
  }

  /** Emits the transition from `before` (may be absent) to `after`; returns false if nothing we report changed. */
  transition(
    before: VoiceMember | undefined,
    after: VoiceMember,
    moveReason: VoiceLeftReason,
  ): boolean {
    if (!before) {
      this.joined(after)
      return true
    }
    if (before.channelId !== after.channelId) {
      this.left(before, moveReason)
      this.joined(after)
      return true
    }
    const changed = changedFlags(before, after)
    if (changed.length === 0) return false
    this.events.push({
      v: PROTOCOL_VERSION,
      type: 'voice.updated',
      guildId: this.guildId,
      channelId: after.channelId,
      userId: after.userId,
      feedSeq: ++this.feedSeq,
      receivedAt: this.receivedAt,
      member: after,
      changed,
    })
    return true
  }
}

function hasSeq(payload: GatewayDispatchPayload): number {
  return typeof payload.s === 'number' ? payload.s : 0
}

/**
 * Applies one gateway dispatch to the voice store. Pure: no I/O, no clock.
 *
 * - READY starts a new gateway session (sequence numbers restart) unless it names the current session.
 * - Any other dispatch whose sequence is not above the last applied one is a duplicate (replay) and is dropped.
 * - GUILD_CREATE for the configured guild is diffed against the known state (joins, leaves with reason
 *   `resync`, updates): this seeds the store and reconciles it after every fresh session.
 * - VOICE_STATE_UPDATE: join, leave, move (leave `moved` + join) or flag update; nothing if nothing reported changed.
 * - GUILD_MEMBER_REMOVE and CHANNEL_DELETE end the voice states they touch.
 * - Dispatches for other guilds are ignored (but still advance the sequence).
 */
export function reduce(state: VoiceStoreState, input: DispatchInput): ReduceResult {
  const { payload, receivedAt } = input
  const s = hasSeq(payload)

  if (payload.t === GatewayDispatchEvents.Ready) {
    // A READY of the session we are already in is a replayed copy, not a new session.
    if (payload.d.session_id === state.sessionId) return { state, events: [], skipped: 'duplicate' }
    return {
      state: { ...state, sessionId: payload.d.session_id, seq: s },
      events: [],
      skipped: 'irrelevant',
    }
  }
  if (s !== 0 && s <= state.seq) return { state, events: [], skipped: 'duplicate' }

  const advanced: VoiceStoreState = s === 0 ? state : { ...state, seq: s }
  const out = new EventBuilder(state.guildId, state.feedSeq, receivedAt)
  let members: Map<string, VoiceMember> | null = null
  let profiles: Map<string, Profile> | null = null
  const editMembers = (): Map<string, VoiceMember> => {
    members ??= new Map(state.members)
    return members
  }
  const editProfiles = (): Map<string, Profile> => {
    profiles ??= new Map(state.profiles)
    return profiles
  }

  switch (payload.t) {
    case GatewayDispatchEvents.GuildCreate: {
      const d = payload.d
      if (d.id !== state.guildId) return { state: advanced, events: [], skipped: 'other_guild' }
      if (d.unavailable === true) return { state: advanced, events: [], skipped: 'irrelevant' }
      const nextProfiles = editProfiles()
      for (const member of d.members ?? []) {
        nextProfiles.set(member.user.id, profileOf(member.user))
      }
      const snapshot = new Map<string, VoiceMember>()
      for (const vs of d.voice_states ?? []) {
        if (vs.channel_id === null) continue
        if (vs.member?.user) nextProfiles.set(vs.user_id, profileOf(vs.member.user))
        const profile = nextProfiles.get(vs.user_id) ?? UNKNOWN_PROFILE
        snapshot.set(vs.user_id, toVoiceMember({ ...vs, channel_id: vs.channel_id }, profile))
      }
      const next = editMembers()
      for (const userId of [...state.members.keys()].sort()) {
        const known = state.members.get(userId)
        if (known && !snapshot.has(userId)) {
          out.left(known, 'resync')
          next.delete(userId)
        }
      }
      for (const userId of [...snapshot.keys()].sort()) {
        const fresh = snapshot.get(userId)
        if (!fresh) continue
        const known = state.members.get(userId)
        if (out.transition(known, fresh, 'resync')) next.set(userId, fresh)
      }
      return finish(advanced, out, members, profiles, true)
    }

    case GatewayDispatchEvents.VoiceStateUpdate: {
      const d = payload.d
      if (d.guild_id !== state.guildId)
        return { state: advanced, events: [], skipped: 'other_guild' }
      if (d.member?.user) editProfiles().set(d.user_id, profileOf(d.member.user))
      const known = state.members.get(d.user_id)
      if (d.channel_id === null) {
        if (known) {
          out.left(known, 'left')
          editMembers().delete(d.user_id)
        }
        return finish(advanced, out, members, profiles, false)
      }
      const profile =
        (profiles ?? state.profiles).get(d.user_id) ??
        (known
          ? { username: known.username, globalName: known.globalName, avatar: known.avatar }
          : UNKNOWN_PROFILE)
      const fresh = toVoiceMember(d as APIBaseVoiceState & { channel_id: string }, profile)
      if (out.transition(known, fresh, 'moved')) editMembers().set(d.user_id, fresh)
      return finish(advanced, out, members, profiles, false)
    }

    case GatewayDispatchEvents.GuildMemberRemove: {
      const d = payload.d
      if (d.guild_id !== state.guildId)
        return { state: advanced, events: [], skipped: 'other_guild' }
      const known = state.members.get(d.user.id)
      if (known) {
        out.left(known, 'member_removed')
        editMembers().delete(d.user.id)
      }
      return finish(advanced, out, members, profiles, false)
    }

    case GatewayDispatchEvents.GuildMemberAdd:
    case GatewayDispatchEvents.GuildMemberUpdate: {
      const d = payload.d
      if (d.guild_id !== state.guildId)
        return { state: advanced, events: [], skipped: 'other_guild' }
      if (d.user) editProfiles().set(d.user.id, profileOf(d.user))
      return finish(advanced, out, members, profiles, false)
    }

    case GatewayDispatchEvents.ChannelDelete: {
      const d = payload.d
      if (!('guild_id' in d) || d.guild_id !== state.guildId) {
        return { state: advanced, events: [], skipped: 'other_guild' }
      }
      for (const userId of [...state.members.keys()].sort()) {
        const known = state.members.get(userId)
        if (known && known.channelId === d.id) {
          out.left(known, 'channel_deleted')
          editMembers().delete(userId)
        }
      }
      return finish(advanced, out, members, profiles, false)
    }

    case GatewayDispatchEvents.GuildDelete: {
      const d = payload.d
      if (d.id !== state.guildId) return { state: advanced, events: [], skipped: 'other_guild' }
      // An outage (unavailable: true) is repaired by the GUILD_CREATE that follows; a removal ends everything.
      if (d.unavailable === true) return { state: advanced, events: [], skipped: 'irrelevant' }
      for (const userId of [...state.members.keys()].sort()) {
        const known = state.members.get(userId)
        if (known) out.left(known, 'resync')
      }
      return finish(advanced, out, new Map(), profiles, false)
    }

    default:
      return { state: advanced, events: [], skipped: 'irrelevant' }
  }
}

function finish(
  state: VoiceStoreState,
  out: EventBuilder,
  members: Map<string, VoiceMember> | null,
  profiles: Map<string, Profile> | null,
  synced: boolean,
): ReduceResult {
  return {
    state: {
      ...state,
      feedSeq: out.lastFeedSeq,
      synced: state.synced || synced,
      members: out.events.length > 0 && members ? members : state.members,
      profiles: profiles ?? state.profiles,
    },
    events: out.events,
  }
}

/**
 * A small stateful wrapper around `reduce` for callers that want a store object
 * (the feed, the tests). The state is still replaced, never mutated.
 */
export interface VoiceStateReducer {
  readonly state: VoiceStoreState
  apply(input: DispatchInput): VoiceEvent[]
  replace(state: VoiceStoreState): void
}

/** Creates a stateful reducer over `reduce`, starting from `initial`. */
export function createVoiceStateReducer(initial: VoiceStoreState): VoiceStateReducer {
  let state = initial
  return {
    get state() {
      return state
    },
    apply(input) {
      const result = reduce(state, input)
      state = result.state
      return result.events
    },
    replace(next) {
      state = next
    },
  }
}
