import type { RoomState, VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'

export const GUILD = '100000000000000001'

/** A snowflake-shaped id from a small number. */
export function sf(n: number): string {
  return String(300000000000000000n + BigInt(n))
}

export function member(
  userId: string,
  channelId: string,
  flags: Partial<VoiceMember> = {},
): VoiceMember {
  return {
    userId,
    channelId,
    username: `user${userId.slice(-4)}`,
    globalName: null,
    avatar: null,
    mute: false,
    deaf: false,
    selfMute: false,
    selfDeaf: false,
    selfVideo: false,
    selfStream: false,
    suppress: false,
    ...flags,
  }
}

let feedSeq = 0
export function joined(userId: string, channelId: string, receivedAt = Date.now()): VoiceEvent {
  return {
    v: 1,
    type: 'voice.joined',
    guildId: GUILD,
    channelId,
    userId,
    feedSeq: ++feedSeq,
    receivedAt,
    member: member(userId, channelId),
  }
}
export function left(
  userId: string,
  channelId: string,
  reason: 'left' | 'moved' = 'left',
): VoiceEvent {
  return {
    v: 1,
    type: 'voice.left',
    guildId: GUILD,
    channelId,
    userId,
    feedSeq: ++feedSeq,
    receivedAt: Date.now(),
    reason,
  }
}
export function updated(
  userId: string,
  channelId: string,
  flags: Partial<VoiceMember>,
): VoiceEvent {
  return {
    v: 1,
    type: 'voice.updated',
    guildId: GUILD,
    channelId,
    userId,
    feedSeq: ++feedSeq,
    receivedAt: Date.now(),
    member: member(userId, channelId, flags),
    changed: Object.keys(flags) as ('selfMute' | 'selfVideo')[],
  }
}

export function roomState(ownerId: string, playerIds: string[]): RoomState {
  return {
    ownerId,
    players: playerIds.map((userId, i) => ({
      userId,
      username: `player${i}`,
      globalName: null,
      avatar: null,
      joinedAt: 1_700_000_000_000 + i,
    })),
    status: 'open',
    closesAt: null,
  }
}
