import type { VoiceSnapshot } from '../voice/voice-mirror'

// What every node's voice mirror gives the rest: events with their origin, resyncs, snapshots
// with their stream position, and its health.

/** Where an event a mirror emits comes from. */
export type VoiceEventOrigin =
  /** A stream entry: the same on every node (build cross-node dedupe keys from epoch + id). */
  | { readonly kind: 'stream'; readonly epoch: string; readonly id: string }
  /**
   * A difference this node computed between its map and a reloaded snapshot: local to this node
   * (another node's differences may differ), never to be deduplicated across nodes.
   */
  | { readonly kind: 'resync'; readonly epoch: string; readonly id: string }

/** Why a mirror reloaded the snapshot. */
export type ResyncReason =
  /** The feed has another epoch (Redis lost it and a leader rebuilt it, or a reseed). */
  | 'epoch'
  /** The stream does not continue where this node is (trimmed past it, or Redis lost entries). */
  | 'gap'

/** What `onResync` listeners get, after the differences were emitted. */
export interface ResyncInfo {
  readonly reason: ResyncReason
  readonly snapshot: MirrorSnapshot
  /** Difference events emitted (0 = nothing had changed). */
  readonly changes: number
}

/** A snapshot with the stream position it reflects. */
export interface MirrorSnapshot extends VoiceSnapshot {
  readonly epoch: string | null
  readonly lastId: string
}

export type MirrorState =
  /** Before the first snapshot. */
  | 'starting'
  /** Applying the stream. */
  | 'following'
  /** Redis has no feed (lost, or no leader has written yet): serving the last known state. */
  | 'stale'
  | 'stopped'

/** A health view of the mirror. */
export interface MirrorStatus {
  state: MirrorState
  epoch: string | null
  lastId: string
  feedSeq: number
  /** True once the feed's snapshot was complete (a GUILD_CREATE in it) and this node caught up. */
  ready: boolean
  members: number
  /** Behind the stream's end: entries and ms (the age of the oldest entry not applied yet). */
  lag: { entries: number; ms: number; checkedAt: number | null }
  resyncs: number
  lastResync: { at: number; reason: ResyncReason; changes: number } | null
  /** Entries or members in Redis that did not parse. */
  invalid: number
  errors: number
  lastError: { message: string; at: number } | null
}
