import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'

/** The read API shared by the in-process feed and every node's stream mirror (cluster). */
export interface VoiceReadApi {
  /** Current truth: all members in voice in the guild, plus the feedSeq it reflects. */
  snapshot(): VoiceSnapshot
  /** Members currently in a channel, sorted by user id. */
  channelMembers(channelId: string): VoiceMember[]
  /** The channel a user is in, or null. */
  memberChannel(userId: string): string | null
  /** Listener gets every domain event in feedSeq order. Returns unsubscribe. */
  subscribe(listener: (event: VoiceEvent) => void): () => void
}

/** A complete picture of who is in voice, as of `feedSeq`. */
export interface VoiceSnapshot {
  guildId: string
  feedSeq: number
  members: VoiceMember[]
}

/** Applies one domain event to a member map (mutates it). The single definition of event semantics. */
export function applyVoiceEvent(members: Map<string, VoiceMember>, event: VoiceEvent): void {
  switch (event.type) {
    case 'voice.joined':
    case 'voice.updated':
      members.set(event.userId, event.member)
      return
    case 'voice.left':
      if (members.get(event.userId)?.channelId === event.channelId) members.delete(event.userId)
      return
    case 'profile.updated': {
      // The member in voice shows the new display data (the feed's member already does).
      const member = members.get(event.userId)
      if (member) members.set(event.userId, { ...member, ...event.profile })
      return
    }
  }
}

/** Members sorted by user id (a stable order for snapshots and comparisons). */
export function sortMembers(members: Iterable<VoiceMember>): VoiceMember[] {
  return [...members].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
}

/** Members of one channel from a member map, sorted by user id. */
export function membersOf(
  members: ReadonlyMap<string, VoiceMember>,
  channelId: string,
): VoiceMember[] {
  return sortMembers([...members.values()].filter((m) => m.channelId === channelId))
}
