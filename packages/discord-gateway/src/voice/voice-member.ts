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

/** Display data from a Discord user object. */
export function profileOf(user: APIUser): Profile {
  return {
    username: user.username.slice(0, 32) || 'unknown',
    globalName: user.global_name?.slice(0, 32) ?? null,
    avatar: user.avatar ?? null,
  }
}

/** Builds our VoiceMember from a Discord voice state in a channel plus the user's display data. */
export function toVoiceMember(
  state: APIBaseVoiceState & { channel_id: string },
  profile: Profile,
): VoiceMember {
  return {
    userId: state.user_id,
    channelId: state.channel_id,
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
