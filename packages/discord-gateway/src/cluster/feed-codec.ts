import type { SessionInfo } from '@discordjs/ws'
import type { VoiceEvent, VoiceMember } from '@repo/discord-integration/contracts'
import { VoiceEventSchema, VoiceMemberSchema } from '@repo/discord-integration/contracts'
import { z } from 'zod'
import { ProfileSchema } from '../session/persisted-gateway'
import type { Profile } from '../voice/voice-member'

/**
 * Parsing what Redis holds for the feed (a trust boundary: another version of the code, an
 * operator or a bug may have written it). Unreadable values are reported, never thrown at the
 * reader's loop.
 */

const count = z
  .string()
  .regex(/^\d+$/)
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v))
const streamId = z.string().regex(/^\d+-\d+$/)

const MetaSchema = z.object({
  epoch: z.string().min(1),
  lastId: streamId,
  feedSeq: count,
  sessionId: z.string(),
  seq: count,
  synced: z.enum(['0', '1']).transform((v) => v === '1'),
  writer: z.string().optional(),
  updatedAt: z.string().optional(),
})

/** The feed's meta hash: which snapshot the hashes hold, as of which stream entry. */
export interface FeedMeta {
  /** This stream's life: a new one whenever the feed was rebuilt (Redis lost it, a reseed). */
  readonly epoch: string
  /** The stream entry the snapshot reflects ('0-0' = none yet). */
  readonly lastId: string
  /** The feedSeq of the last event in the stream. */
  readonly feedSeq: number
  /** The Discord session and sequence the snapshot reflects (sessionId null = none yet). */
  readonly sessionId: string | null
  readonly seq: number
  /** True once a complete GUILD_CREATE is in the snapshot. */
  readonly synced: boolean
}

/** HGETALL's flat [field, value, ...] array as an object. */
export function pairsToObject(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!Array.isArray(flat)) return out
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1])
  return out
}

/** The meta hash, or null when it is missing (no leader ever wrote, or Redis lost it) or unreadable. */
export function parseMeta(hash: Record<string, string>): FeedMeta | null {
  if (Object.keys(hash).length === 0) return null
  const parsed = MetaSchema.safeParse(hash)
  if (!parsed.success) return null
  const m = parsed.data
  return {
    epoch: m.epoch,
    lastId: m.lastId,
    feedSeq: m.feedSeq,
    sessionId: m.sessionId === '' ? null : m.sessionId,
    seq: m.seq,
    synced: m.synced,
  }
}

/** Member JSON values; `invalid` counts the ones that do not parse (they are left out). */
export function parseMembers(values: unknown): { members: VoiceMember[]; invalid: number } {
  const members: VoiceMember[] = []
  let invalid = 0
  for (const value of Array.isArray(values) ? values : []) {
    const parsed = safeJson(value, VoiceMemberSchema)
    if (parsed) members.push(parsed)
    else invalid++
  }
  return { members, invalid }
}

/** Profile JSON by user id; unreadable ones are left out. */
export function parseProfiles(hash: Record<string, string>): Map<string, Profile> {
  const profiles = new Map<string, Profile>()
  for (const [userId, value] of Object.entries(hash)) {
    const parsed = safeJson(value, ProfileSchema)
    if (parsed) profiles.set(userId, parsed)
  }
  return profiles
}

const SessionHashSchema = z.object({
  sessionId: z.string().min(1),
  seq: count,
  resumeURL: z.string().min(1),
  shardId: count,
  shardCount: count.refine((v) => v > 0),
})

/** The session hash as @discordjs/ws session info, or null when missing, unreadable or without a resume URL. */
export function parseSession(hash: Record<string, string>): SessionInfo | null {
  const parsed = SessionHashSchema.safeParse(hash)
  if (!parsed.success) return null
  const s = parsed.data
  return {
    sessionId: s.sessionId,
    sequence: s.seq,
    resumeURL: s.resumeURL,
    shardId: s.shardId,
    shardCount: s.shardCount,
  }
}

/** One stream entry as the leader wrote it. */
export interface FeedEntry {
  readonly id: string
  readonly epoch: string
  readonly feedSeq: number
  /** Null when the event JSON does not parse (the entry still advances the position). */
  readonly event: VoiceEvent | null
  readonly sessionId: string
  readonly seq: number
  /** The fencing token of the leader that wrote it. */
  readonly token: number
}

const EntryFieldsSchema = z.object({
  epoch: z.string().min(1),
  event: z.string(),
  sessionId: z.string(),
  seq: count,
  feedSeq: count,
  token: count,
})

/** An XREAD/XRANGE entry (`[id, [field, value, ...]]`), or null when its fields are unreadable. */
export function parseEntry(raw: unknown): FeedEntry | null {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return null
  const fields = EntryFieldsSchema.safeParse(pairsToObject(raw[1]))
  if (!fields.success) return null
  const f = fields.data
  return {
    id: raw[0],
    epoch: f.epoch,
    feedSeq: f.feedSeq,
    event: safeJson(f.event, VoiceEventSchema),
    sessionId: f.sessionId,
    seq: f.seq,
    token: f.token,
  }
}

/** The milliseconds part of a stream id (Redis's clock when the entry was added). */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')))
}

function safeJson<T>(value: unknown, schema: z.ZodType<T>): T | null {
  if (typeof value !== 'string') return null
  try {
    const parsed = schema.safeParse(JSON.parse(value))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
