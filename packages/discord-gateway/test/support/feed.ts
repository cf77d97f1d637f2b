import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { FeedEntry } from '../../src/cluster/feed-codec'
import { pairsToObject, parseEntry } from '../../src/cluster/feed-codec'
import type { FeedRecord } from '../../src/cluster/fenced-writer'
import type { VoiceFeedKeys } from '../../src/cluster/keys'

export const GUILD = '100000000000000001'
export const CHANNEL = '300000000000000001'

/** A member in voice with default flags. */
export function member(userId: string, extra: Partial<VoiceMember> = {}): VoiceMember {
  return {
    userId,
    channelId: CHANNEL,
    username: `user${userId.slice(-3)}`,
    globalName: null,
    avatar: null,
    mute: false,
    deaf: false,
    selfMute: false,
    selfDeaf: false,
    selfVideo: false,
    selfStream: false,
    suppress: false,
    ...extra,
  }
}

/** A join record: one event with the given feedSeq, at (sessionId, seq). */
export function joinRecord(
  sessionId: string,
  seq: number,
  feedSeq: number,
  userId: string,
): FeedRecord {
  const m = member(userId)
  const event: VoiceEvent = {
    v: PROTOCOL_VERSION,
    type: 'voice.joined',
    guildId: GUILD,
    channelId: m.channelId,
    userId,
    feedSeq,
    receivedAt: 1_700_000_000_000 + feedSeq,
    member: m,
  }
  return {
    sessionId,
    seq,
    synced: true,
    resumeURL: seq === 1 ? 'ws://127.0.0.1:1' : null,
    events: [event],
    members: [[userId, m]],
    profiles: [[userId, { username: m.username, globalName: null, avatar: null }]],
  }
}

/** Every entry of a stream, parsed. */
export async function streamEntries(redis: Redis, keys: VoiceFeedKeys): Promise<FeedEntry[]> {
  const raw = (await redis.xrange(keys.stream, '-', '+')) as unknown[]
  return raw.map((entry) => {
    const parsed = parseEntry(entry)
    if (!parsed) throw new Error(`unreadable stream entry ${JSON.stringify(entry)}`)
    return parsed
  })
}

/** The meta hash as an object. */
export async function metaOf(redis: Redis, keys: VoiceFeedKeys): Promise<Record<string, string>> {
  return pairsToObject(await redis.hgetall(keys.meta).then((h) => Object.entries(h).flat()))
}
