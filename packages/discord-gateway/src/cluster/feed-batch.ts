import { randomBytes } from 'node:crypto'
import type { FeedRecord, FeedState } from './feed-record'
import type { ShardRef } from './keys'

/** A new feed epoch (16 hex digits). */
export function newEpoch(): string {
  return randomBytes(8).toString('hex')
}

/** The JSON argument of WRITE_BATCH: batch `n` of `records` under `epoch`. */
export function batchJson(
  epoch: string,
  n: number,
  shard: ShardRef,
  records: readonly FeedRecord[],
): string {
  return JSON.stringify({
    epoch,
    n,
    updatedAt: String(Date.now()),
    shard: [shard.id, shard.count],
    records: records.map(encodeRecord),
  })
}

/**
 * The JSON argument of RESEED_FEED: the leader's whole `state` under a new `epoch` (with
 * `keepSession`, no resume URL: the shard's session hash is left alone).
 */
export function reseedJson(
  epoch: string,
  n: number,
  shard: ShardRef,
  state: FeedState,
  keepSession: boolean,
): string {
  return JSON.stringify({
    epoch,
    n,
    updatedAt: String(Date.now()),
    shard: [shard.id, shard.count],
    sessionId: state.sessionId ?? '',
    seq: String(state.seq),
    resumeURL: keepSession ? '' : (state.resumeURL ?? ''),
    feedSeq: String(state.feedSeq),
    synced: state.synced,
    members: [...state.members].map((m) => [m.userId, JSON.stringify(m)]),
    profiles: [...state.profiles].map(([id, p]) => [id, JSON.stringify(p)]),
  })
}

function encodeRecord(r: FeedRecord) {
  return {
    sessionId: r.sessionId,
    seq: String(r.seq),
    synced: r.synced,
    resumeURL: r.resumeURL ?? '',
    holdSession: r.holdSession === true,
    events: r.events.map((e) => ({ json: JSON.stringify(e), feedSeq: String(e.feedSeq) })),
    members: r.members.map(([userId, m]) => [userId, m ? JSON.stringify(m) : '']),
    profiles: r.profiles.map(([userId, p]) => [userId, JSON.stringify(p)]),
  }
}

/** The write was refused for want of any fence (Redis lost it), not by a newer leader. */
export function isFenceMissing(reply: unknown): boolean {
  return Array.isArray(reply) && reply[0] === 'fenced' && reply[1] === ''
}
