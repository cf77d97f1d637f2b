import type { VoiceMember } from '@repo/discord-integration/contracts'
import type { Redis } from 'ioredis'
import type { FeedEntry, FeedMeta } from './feed-codec'
import { pairsToObject, parseEntry, parseMembers, parseMeta } from './feed-codec'
import { READ_SNAPSHOT } from './feed-scripts'
import type { VoiceFeedKeys } from './keys'

/** A guild feed's snapshot: its meta (null when Redis has no feed) and members. */
export interface FeedSnapshotRead {
  readonly meta: FeedMeta | null
  readonly members: VoiceMember[]
  /** Member values that did not parse (left out). */
  readonly invalid: number
}

/** Meta and members in one script, so that they agree. */
export async function readFeedSnapshot(
  redis: Redis,
  keys: VoiceFeedKeys,
): Promise<FeedSnapshotRead> {
  const reply = (await READ_SNAPSHOT.run(redis, [keys.meta, keys.members], [])) as [
    unknown,
    unknown,
  ]
  const meta = parseMeta(pairsToObject(reply[0]))
  if (!meta) return { meta: null, members: [], invalid: 0 }
  return { meta, ...parseMembers(reply[1]) }
}

/** Where a feed ends: its epoch (`''` when Redis has no feed) and last feedSeq. */
export interface FeedEnd {
  readonly epoch: string
  readonly feedSeq: number
}

export async function readFeedEnd(redis: Redis, keys: VoiceFeedKeys): Promise<FeedEnd> {
  const [epoch, feedSeq] = await redis.hmget(keys.meta, 'epoch', 'feedSeq')
  return epoch ? { epoch, feedSeq: Number(feedSeq ?? 0) } : { epoch: '', feedSeq: 0 }
}

/** What a reader's periodic check needs, read in one transaction. */
export interface FeedCheckRead {
  /** Null when Redis has no feed. */
  readonly epoch: string | null
  readonly feedSeq: number
  readonly synced: boolean
  /** Redis' clock (ms), to measure a lag against entry ids. */
  readonly redisNowMs: number
  /** The entry right after `afterId`, if any. */
  readonly next: FeedEntry | null
}

export async function readFeedCheck(
  redis: Redis,
  keys: VoiceFeedKeys,
  afterId: string,
): Promise<FeedCheckRead> {
  const results = await redis
    .multi()
    .hmget(keys.meta, 'epoch', 'feedSeq', 'synced')
    .time()
    .xrange(keys.stream, `(${afterId}`, '+', 'COUNT', 1)
    .exec()
  if (!results || results.some(([error]) => error)) throw new Error('the feed check failed')
  const [epoch, feedSeq, synced] = (results[0]?.[1] ?? []) as (string | null)[]
  const [seconds, micros] = (results[1]?.[1] ?? ['0', '0']) as [string, string]
  return {
    epoch: epoch || null,
    feedSeq: Number(feedSeq ?? 0),
    synced: synced === '1',
    redisNowMs: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
    next: parseEntry(((results[2]?.[1] ?? []) as unknown[])[0]),
  }
}
