import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import type { Profile } from '../voice/voice-member'

/** What one dispatch changed, as the leader's reducer saw it: written to Redis in one piece. */
export interface FeedRecord {
  readonly sessionId: string
  /** The dispatch's sequence number. */
  readonly seq: number
  readonly synced: boolean
  /** The session's resume_gateway_url (null when unknown). */
  readonly resumeURL: string | null
  /** The same dispatch still writes a guild change: leave the shard's session hash as it is. */
  readonly holdSession?: boolean
  readonly events: readonly VoiceEvent[]
  /** Each user the events touched, with their state afterwards (null = not in voice). */
  readonly members: readonly (readonly [string, VoiceMember | null])[]
  /** Profiles the dispatch replaced. */
  readonly profiles: readonly (readonly [string, Profile])[]
}

/** The leader's whole state, for a reseed. */
export interface FeedState {
  readonly sessionId: string | null
  readonly seq: number
  readonly resumeURL: string | null
  readonly feedSeq: number
  readonly synced: boolean
  readonly members: Iterable<VoiceMember>
  readonly profiles: Iterable<readonly [string, Profile]>
}

/** Counters of a writer (one leadership term). */
export interface WriterStats {
  /** Scripts that applied (ok or duplicate). */
  batches: number
  /** Stream entries appended. */
  entries: number
  /** Records skipped by the script as already in the stream (Discord's replay). */
  skipped: number
  /** Retries after Redis errors. */
  retries: number
  reseeds: number
  /** Writes refused because the token is no longer the current one. */
  fenced: number
  /** Records waiting (the one in flight included). */
  pending: number
  lastError: { message: string; at: number } | null
}
