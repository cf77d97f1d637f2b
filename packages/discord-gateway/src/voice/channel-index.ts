import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'

/**
 * Voice members grouped by channel, kept in step with a member map by applying the same domain
 * events to it (the events are the complete description of every member change, which the
 * reducer's property test checks). Makes `channelMembers()` cost O(members of that channel)
 * instead of a scan and sort of the whole guild.
 */
export class ChannelIndex {
  readonly #byChannel = new Map<string, Map<string, VoiceMember>>()
  readonly #channelOf = new Map<string, string>()

  /** An index of `members` (O(members)). */
  static of(members: Iterable<VoiceMember>): ChannelIndex {
    const index = new ChannelIndex()
    for (const member of members) index.#put(member)
    return index
  }

  /** Applies one domain event, with the semantics of `applyVoiceEvent`. O(1). */
  apply(event: VoiceEvent): void {
    switch (event.type) {
      case 'voice.joined':
      case 'voice.updated':
        this.#put(event.member)
        return
      case 'voice.left':
        if (this.#channelOf.get(event.userId) === event.channelId) this.#remove(event.userId)
        return
      case 'profile.updated': {
        const channelId = this.#channelOf.get(event.userId)
        const member = channelId && this.#byChannel.get(channelId)?.get(event.userId)
        if (member) this.#put({ ...member, ...event.profile })
        return
      }
    }
  }

  /** Members of one channel, sorted by user id (a stable order for snapshots). */
  members(channelId: string): VoiceMember[] {
    const channel = this.#byChannel.get(channelId)
    if (!channel) return []
    const out = [...channel.values()]
    if (out.length > 1) out.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))
    return out
  }

  /** Number of channels with at least one member. */
  get channels(): number {
    return this.#byChannel.size
  }

  #put(member: VoiceMember): void {
    const previous = this.#channelOf.get(member.userId)
    if (previous !== undefined && previous !== member.channelId) this.#remove(member.userId)
    let channel = this.#byChannel.get(member.channelId)
    if (!channel) {
      channel = new Map()
      this.#byChannel.set(member.channelId, channel)
    }
    channel.set(member.userId, member)
    this.#channelOf.set(member.userId, member.channelId)
  }

  #remove(userId: string): void {
    const channelId = this.#channelOf.get(userId)
    if (channelId === undefined) return
    this.#channelOf.delete(userId)
    const channel = this.#byChannel.get(channelId)
    if (!channel) return
    channel.delete(userId)
    if (channel.size === 0) this.#byChannel.delete(channelId)
  }
}
