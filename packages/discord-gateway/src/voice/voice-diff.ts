import {
  PROTOCOL_VERSION,
  VOICE_FLAGS,
  type VoiceEvent,
  type VoiceMember,
} from '@repo/discord-integration/contracts'

/**
 * The events that turn `before` into `after`: leaves (reason resync) for members
 * gone or moved, joins for new or moved ones, updates for changed flags, profile updates for
 * changed display data. They carry
 * the snapshot's feed sequence, since they stand for the stretch it covers.
 */
export function diffMembers(
  guildId: string,
  before: ReadonlyMap<string, VoiceMember>,
  after: ReadonlyMap<string, VoiceMember>,
  feedSeq: number,
  receivedAt: number,
): VoiceEvent[] {
  const base = { v: PROTOCOL_VERSION, guildId, feedSeq, receivedAt }
  const events: VoiceEvent[] = []
  for (const [userId, old] of before) {
    const now = after.get(userId)
    if (!now || now.channelId !== old.channelId) {
      events.push({
        ...base,
        type: 'voice.left',
        channelId: old.channelId,
        userId,
        reason: 'resync',
      })
    }
  }
  for (const [userId, now] of after) {
    const old = before.get(userId)
    if (!old || old.channelId !== now.channelId) {
      events.push({ ...base, type: 'voice.joined', channelId: now.channelId, userId, member: now })
      continue
    }
    const changed = VOICE_FLAGS.filter((flag) => old[flag] !== now[flag])
    if (changed.length > 0) {
      events.push({
        ...base,
        type: 'voice.updated',
        channelId: now.channelId,
        userId,
        member: now,
        changed,
      })
    }
    if (
      old.username !== now.username ||
      old.globalName !== now.globalName ||
      old.avatar !== now.avatar
    ) {
      const { username, globalName, avatar } = now
      events.push({
        ...base,
        type: 'profile.updated',
        channelId: now.channelId,
        userId,
        profile: { username, globalName, avatar },
      })
    }
  }
  return events
}
