import type { VoiceFlag, VoiceMember } from '@repo/discord-integration/contracts'
import { VOICE_FLAGS } from '@repo/discord-integration/contracts'
import type { APIBaseVoiceState, APIUser } from 'discord-api-types/v10'

/** The display data of a user, as taken from `member.user` (never from a top-level `user`). */
export interface Profile {
  readonly username: string
  readonly globalName: string | null
  readonly avatar: string | null
}

/** Used when neither the dispatch nor any earlier event carried the user's display data. */
export const UNKNOWN_PROFILE: Profile = { username: 'unknown', globalName: null, avatar: null }

/**
 * Display data from a Discord user object. When it matches `known`, `known` itself is returned:
 * most voice updates repeat the user's data, and the store keeps what it returns for as long as
 * the user is in voice, so a copy would live long enough to reach the old generation and leave
 * work for its next major collection.
 */
export function profileOf(user: APIUser, known?: Profile): Profile {
  const username = user.username.slice(0, 32) || 'unknown'
  const globalName = user.global_name?.slice(0, 32) ?? null
  const avatar = user.avatar ?? null
  if (
    known &&
    known.username === username &&
    known.globalName === globalName &&
    known.avatar === avatar
  ) {
    return known
  }
  return { username, globalName, avatar }
}

/**
 * Builds our VoiceMember from a Discord voice state in a channel plus the user's display data.
 * Members are never mutated, so a changed state needs a new object; its ids come from `known`
 * (the member's previous state) when they are equal, so the strings of each parsed dispatch stay
 * short-lived (see {@link profileOf}).
 */
export function toVoiceMember(
  state: APIBaseVoiceState & { channel_id: string },
  profile: Profile,
  known?: VoiceMember,
): VoiceMember {
  return {
    userId: known?.userId === state.user_id ? known.userId : state.user_id,
    channelId: known?.channelId === state.channel_id ? known.channelId : state.channel_id,
    username: profile.username,
    globalName: profile.globalName,
    avatar: profile.avatar,
    mute: state.mute,
    deaf: state.deaf,
    selfMute: state.self_mute,
    selfDeaf: state.self_deaf,
    selfVideo: state.self_video,
    selfStream: state.self_stream ?? false,
    suppress: state.suppress,
  }
}

/** The reported flags that differ between two states of the same member (in VOICE_FLAGS order). */
export function changedFlags(before: VoiceMember, after: VoiceMember): VoiceFlag[] {
  return VOICE_FLAGS.filter((flag) => before[flag] !== after[flag])
}

/** Whether `member` shows exactly `profile`'s display data. */
export function hasProfile(member: VoiceMember, profile: Profile): boolean {
  return (
    member.username === profile.username &&
    member.globalName === profile.globalName &&
    member.avatar === profile.avatar
  )
}

/** `member` with `profile`'s display data (a new object; members are never mutated). */
export function withProfile(member: VoiceMember, profile: Profile): VoiceMember {
  return {
    ...member,
    username: profile.username,
    globalName: profile.globalName,
    avatar: profile.avatar,
  }
}
