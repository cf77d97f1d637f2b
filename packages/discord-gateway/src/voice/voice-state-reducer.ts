import type { VoiceEvent, VoiceLeftReason, VoiceMember } from '@repo/discord-integration/contracts'
import { PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import type { APIBaseVoiceState, APIUser, GatewayDispatchPayload } from 'discord-api-types/v10'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Profile } from './voice-member'
import {
  changedFlags,
  hasProfile,
  profileOf,
  toVoiceMember,
  UNKNOWN_PROFILE,
  withProfile,
} from './voice-member'

/**
 * The voice state of one guild plus the position in the gateway stream it reflects.
 *
 * {@link applyDispatch} changes it in place (O(1) per voice event: no copy of the member maps);
 * {@link reduce} is the pure form for callers that keep old states around (it copies first).
 * Member and profile objects are never mutated, only replaced, so arrays taken from the maps
 * (snapshots, persistence) stay valid after later dispatches.
 */
export interface VoiceStoreState {
  readonly guildId: string
  /** The gateway session the `seq` belongs to (null before the first READY). */
  sessionId: string | null
  /** The last gateway sequence number applied in `sessionId` (0 = none). */
  seq: number
  /** The feedSeq of the last emitted domain event (0 = none). */
  feedSeq: number
  /** True once a GUILD_CREATE snapshot (or a persisted state) has been applied. */
  synced: boolean
  /** Everyone in voice, by user id. */
  readonly members: Map<string, VoiceMember>
  /** Last known display data per user (from GUILD_CREATE members, VSU member.user, member events). */
  readonly profiles: Map<string, Profile>
}

/** One dispatch as it arrived, with the moment it was received (epoch ms, sub-ms precision). */
export interface DispatchInput {
  readonly payload: GatewayDispatchPayload
  readonly receivedAt: number
}

/** Why a dispatch emitted nothing, if it was skipped. */
export type SkipReason = 'duplicate' | 'other_guild' | 'irrelevant'

/** The outcome of {@link applyDispatch}: the state it was given has been updated in place. */
export interface ApplyResult {
  readonly events: VoiceEvent[]
  /** False when the state was left exactly as it was (a duplicate, or nothing to record). */
  readonly changed: boolean
  /** Why the dispatch emitted nothing, if it was skipped. */
  readonly skipped?: SkipReason
  /** Users whose stored display data (profile) this dispatch replaced, in the order it did. */
  readonly profilesChanged?: readonly string[]
}

/** The outcome of {@link reduce}. */
export interface ReduceResult {
  /** The next state: a new object, or the given one when nothing changed. */
  readonly state: VoiceStoreState
  readonly events: VoiceEvent[]
  /** Why the dispatch changed nothing, if it was skipped. */
  readonly skipped?: SkipReason
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

/** An independent copy of a state (O(members + profiles); the entries themselves are shared). */
export function cloneVoiceStoreState(state: VoiceStoreState): VoiceStoreState {
  return { ...state, members: new Map(state.members), profiles: new Map(state.profiles) }
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

  profileUpdated(userId: string, channelId: string | null, profile: Profile): void {
    this.events.push({
      v: PROTOCOL_VERSION,
      type: 'profile.updated',
      guildId: this.guildId,
      channelId,
      userId,
      feedSeq: ++this.feedSeq,
      receivedAt: this.receivedAt,
      profile: {
        username: profile.username,
        globalName: profile.globalName,
        avatar: profile.avatar,
      },
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

/**
 * Records `user`'s display data, keeping the stored profile when nothing in it changed. Returns
 * what changed: `changed` when a profile the store already knew is different now, `new` for a
 * first sighting, `same` otherwise.
 */
function rememberProfile(
  profiles: Map<string, Profile>,
  userId: string,
  user: APIUser,
): 'same' | 'new' | 'changed' {
  const known = profiles.get(userId)
  const profile = profileOf(user, known)
  if (profile === known) return 'same'
  profiles.set(userId, profile)
  return known ? 'changed' : 'new'
}

/**
 * A user's profile changed: their member in voice (if any) takes the new display data, and a
 * `profile.updated` event goes out with the channel they are in (null when not in voice).
 */
function announceProfile(
  members: Map<string, VoiceMember>,
  profiles: Map<string, Profile>,
  out: EventBuilder,
  userId: string,
): void {
  const profile = profiles.get(userId)
  if (!profile) return
  const member = members.get(userId)
  if (member && !hasProfile(member, profile)) members.set(userId, withProfile(member, profile))
  out.profileUpdated(userId, member?.channelId ?? null, profile)
}

function hasSeq(payload: GatewayDispatchPayload): number {
  return typeof payload.s === 'number' ? payload.s : 0
}

/**
 * Applies one gateway dispatch to the voice store **in place** and returns the domain events it
 * produced. Deterministic, no I/O, no clock. A VOICE_STATE_UPDATE costs O(1): only the entries it
 * touches are written.
 *
 * - READY starts a new gateway session (sequence numbers restart) unless it names the current session.
 * - Any other dispatch whose sequence is not above the last applied one is a duplicate (replay) and is dropped.
 * - GUILD_CREATE for the configured guild is diffed against the known state (joins, leaves with reason
 *   `resync`, updates): this seeds the store and reconciles it after every fresh session.
 * - VOICE_STATE_UPDATE: join, leave, move (leave `moved` + join) or flag update; nothing if nothing reported changed.
 * - GUILD_MEMBER_REMOVE and CHANNEL_DELETE end the voice states they touch.
 * - A user's display data that changed (GUILD_MEMBER_UPDATE, a voice state's `member.user`, a fresh
 *   GUILD_CREATE) is recorded, their member in voice takes it, and `profile.updated` follows the
 *   dispatch's voice events. Only changes are reported: a first sighting is not, except in a
 *   GUILD_MEMBER_UPDATE (the user changed something, and the store had not seen them yet).
 * - GUILD_DELETE without `unavailable` (the bot was removed) ends every voice state with reason
 *   `guild_removed`; with `unavailable: true` (an outage) nothing changes.
 * - Dispatches for other guilds are ignored (but still advance the sequence).
 */
export function applyDispatch(state: VoiceStoreState, input: DispatchInput): ApplyResult {
  const { payload, receivedAt } = input
  const s = hasSeq(payload)

  if (payload.t === GatewayDispatchEvents.Ready) {
    // A READY of the session we are already in is a replayed copy, not a new session.
    if (payload.d.session_id === state.sessionId) {
      return { events: [], changed: false, skipped: 'duplicate' }
    }
    state.sessionId = payload.d.session_id
    state.seq = s
    return { events: [], changed: true, skipped: 'irrelevant' }
  }
  if (s !== 0 && s <= state.seq) return { events: [], changed: false, skipped: 'duplicate' }
  if (s !== 0) state.seq = s
  return applyGuildDispatch(state, payload, receivedAt, s !== 0)
}

/**
 * The guild part of {@link applyDispatch}: applies one dispatch (already known to be new, in
 * order) to one guild's voice state, in place, without looking at sequence numbers or sessions.
 * The multi-guild feed calls it after its own per-shard deduplication; `advanced` says whether
 * the dispatch moved the shard's sequence (then the state counts as changed even when the
 * dispatch was skipped).
 */
export function applyGuildDispatch(
  state: VoiceStoreState,
  payload: GatewayDispatchPayload,
  receivedAt: number,
  advanced = true,
): ApplyResult {
  const skip = (skipped: SkipReason): ApplyResult => ({
    events: [],
    changed: advanced,
    skipped,
  })
  const { members, profiles } = state
  const out = new EventBuilder(state.guildId, state.feedSeq, receivedAt)
  const profilesChanged: string[] = []
  /** Records a user's display data (see rememberProfile); a stored change is listed for persistence. */
  const remember = (userId: string, user: APIUser): 'same' | 'new' | 'changed' => {
    const seen = rememberProfile(profiles, userId, user)
    if (seen !== 'same') profilesChanged.push(userId)
    return seen
  }
  const done = (synced = false): ApplyResult => {
    state.feedSeq = out.lastFeedSeq
    if (synced) state.synced = true
    return profilesChanged.length > 0
      ? { events: out.events, changed: true, profilesChanged }
      : { events: out.events, changed: true }
  }

  switch (payload.t) {
    case GatewayDispatchEvents.GuildCreate: {
      const d = payload.d
      if (d.id !== state.guildId) return skip('other_guild')
      if (d.unavailable === true) return skip('irrelevant')
      // Profiles the store knew that are different now (first sightings are not news).
      const renamed = new Set<string>()
      for (const member of d.members ?? []) {
        if (remember(member.user.id, member.user) === 'changed') renamed.add(member.user.id)
      }
      const snapshot = new Map<string, VoiceMember>()
      for (const vs of d.voice_states ?? []) {
        if (vs.channel_id === null) continue
        if (vs.member?.user && remember(vs.user_id, vs.member.user) === 'changed') {
          renamed.add(vs.user_id)
        }
        const profile = profiles.get(vs.user_id) ?? UNKNOWN_PROFILE
        const member = toVoiceMember(
          { ...vs, channel_id: vs.channel_id },
          profile,
          members.get(vs.user_id),
        )
        snapshot.set(vs.user_id, member)
      }
      for (const userId of [...members.keys()].sort()) {
        const known = members.get(userId)
        if (known && !snapshot.has(userId)) {
          out.left(known, 'resync')
          members.delete(userId)
        }
      }
      for (const userId of [...snapshot.keys()].sort()) {
        const fresh = snapshot.get(userId)
        if (!fresh) continue
        if (out.transition(members.get(userId), fresh, 'resync')) members.set(userId, fresh)
      }
      for (const userId of [...renamed].sort()) announceProfile(members, profiles, out, userId)
      return done(true)
    }

    case GatewayDispatchEvents.VoiceStateUpdate: {
      const d = payload.d
      if (d.guild_id !== state.guildId) return skip('other_guild')
      const renamed =
        d.member?.user !== undefined && remember(d.user_id, d.member.user) === 'changed'
      const known = members.get(d.user_id)
      if (d.channel_id === null) {
        if (known) {
          out.left(known, 'left')
          members.delete(d.user_id)
        }
        if (renamed) announceProfile(members, profiles, out, d.user_id)
        return done()
      }
      const profile =
        profiles.get(d.user_id) ??
        (known
          ? { username: known.username, globalName: known.globalName, avatar: known.avatar }
          : UNKNOWN_PROFILE)
      const fresh = toVoiceMember(d as APIBaseVoiceState & { channel_id: string }, profile, known)
      if (out.transition(known, fresh, 'moved')) members.set(d.user_id, fresh)
      if (renamed) announceProfile(members, profiles, out, d.user_id)
      return done()
    }

    case GatewayDispatchEvents.GuildMemberRemove: {
      const d = payload.d
      if (d.guild_id !== state.guildId) return skip('other_guild')
      const known = members.get(d.user.id)
      if (known) {
        out.left(known, 'member_removed')
        members.delete(d.user.id)
      }
      return done()
    }

    case GatewayDispatchEvents.GuildMemberAdd:
    case GatewayDispatchEvents.GuildMemberUpdate: {
      const d = payload.d
      if (d.guild_id !== state.guildId) return skip('other_guild')
      if (d.user) {
        const seen = remember(d.user.id, d.user)
        // An update is news even when the store had not seen the user yet (a player who was
        // never in voice); a new member is not, unless the store knew them under another name.
        const news =
          seen === 'changed' ||
          (seen === 'new' && payload.t === GatewayDispatchEvents.GuildMemberUpdate)
        if (news) announceProfile(members, profiles, out, d.user.id)
      }
      return done()
    }

    case GatewayDispatchEvents.ChannelDelete: {
      const d = payload.d
      if (!('guild_id' in d) || d.guild_id !== state.guildId) return skip('other_guild')
      for (const userId of [...members.keys()].sort()) {
        const known = members.get(userId)
        if (known && known.channelId === d.id) {
          out.left(known, 'channel_deleted')
          members.delete(userId)
        }
      }
      return done()
    }

    case GatewayDispatchEvents.GuildDelete: {
      const d = payload.d
      if (d.id !== state.guildId) return skip('other_guild')
      // An outage (unavailable: true) is repaired by the GUILD_CREATE that follows; a removal ends everything.
      if (d.unavailable === true) return skip('irrelevant')
      for (const userId of [...members.keys()].sort()) {
        const known = members.get(userId)
        if (known) out.left(known, 'guild_removed')
      }
      members.clear()
      return done()
    }

    default:
      return skip('irrelevant')
  }
}

/**
 * The pure form of {@link applyDispatch}: `state` is left untouched and the result holds a new
 * state (or `state` itself when the dispatch changed nothing). It copies the member and profile
 * maps, i.e. O(members) per call: for tests and tools that keep old states; the feed uses
 * {@link applyDispatch}.
 */
export function reduce(state: VoiceStoreState, input: DispatchInput): ReduceResult {
  const next = cloneVoiceStoreState(state)
  const result = applyDispatch(next, input)
  const skipped = result.skipped ? { skipped: result.skipped } : {}
  return { state: result.changed ? next : state, events: result.events, ...skipped }
}

/**
 * A small stateful wrapper around {@link applyDispatch} for callers that want a store object.
 * The state object is updated in place.
 */
export interface VoiceStateReducer {
  readonly state: VoiceStoreState
  apply(input: DispatchInput): VoiceEvent[]
  replace(state: VoiceStoreState): void
}

/** Creates a stateful reducer over `applyDispatch`, starting from `initial` (which it then owns). */
export function createVoiceStateReducer(initial: VoiceStoreState): VoiceStateReducer {
  let state = initial
  return {
    get state() {
      return state
    },
    apply(input) {
      return applyDispatch(state, input).events
    },
    replace(next) {
      state = next
    },
  }
}
