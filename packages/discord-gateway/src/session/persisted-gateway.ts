import { VoiceMemberSchema } from '@repo/discord-integration/contracts'
import { jsonArrayChunks } from '@repo/file-persistence'
import { z } from 'zod'
import type { VoiceStoreState } from '../voice/voice-state-reducer'

/** @discordjs/ws session info, as persisted. */
export const SessionInfoSchema = z.object({
  sessionId: z.string().min(1),
  sequence: z.number().int().nonnegative(),
  resumeURL: z.string().min(1),
  shardId: z.number().int().nonnegative(),
  shardCount: z.number().int().positive(),
})

export const ProfileSchema = z.object({
  username: z.string(),
  globalName: z.string().nullable(),
  avatar: z.string().nullable(),
})

const VoiceSchema = z.object({
  sessionId: z.string().nullable(),
  seq: z.number().int().nonnegative(),
  feedSeq: z.number().int().nonnegative(),
  synced: z.boolean(),
  members: z.array(VoiceMemberSchema),
  profiles: z.array(z.tuple([z.string(), ProfileSchema])),
})

/**
 * What survives a restart of a one-guild feed (version 1, as written before several guilds):
 * the gateway session and the voice state it reflects, as one consistent pair
 * (`session.sequence === voice.seq` whenever both name the same session). Still read (a pool of
 * one), never written.
 */
export const PersistedGatewayV1Schema = z.object({
  v: z.literal(1),
  guildId: z.string(),
  savedAt: z.number(),
  session: SessionInfoSchema.nullable(),
  voice: VoiceSchema,
})

/** One shard's session in a {@link PersistedGatewayV2Schema} value. */
export const PersistedShardSchema = z.object({
  id: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  /** The session the shard's guilds reflect, at `seq` (null before the first READY). */
  sessionId: z.string().nullable(),
  seq: z.number().int().nonnegative(),
  /** Every guild of the shard's READY was created or known unavailable. */
  settled: z.boolean(),
  /** The session to RESUME (`sequence === seq`), or null: IDENTIFY. */
  session: SessionInfoSchema.nullable(),
})

/** One guild in a {@link PersistedGatewayV2Schema} value. */
export const PersistedGuildSchema = z.object({
  id: z.string(),
  name: z.string(),
  available: z.boolean(),
  shardId: z.number().int().nonnegative(),
  voice: VoiceSchema,
})

/**
 * What survives a restart of the multi-guild feed: every shard's session and the voice state of
 * every guild, saved together in one synchronous copy, so each shard's session is consistent with
 * its guilds' state.
 */
export const PersistedGatewayV2Schema = z.object({
  v: z.literal(2),
  savedAt: z.number(),
  shards: z.array(PersistedShardSchema),
  guilds: z.array(PersistedGuildSchema),
})

/** A stored value: version 2, or a version 1 file of a one-guild deployment. */
export const PersistedGatewaySchema = z.discriminatedUnion('v', [
  PersistedGatewayV1Schema,
  PersistedGatewayV2Schema,
])
export type PersistedGateway = z.infer<typeof PersistedGatewaySchema>
export type PersistedGatewayV1 = z.infer<typeof PersistedGatewayV1Schema>
export type PersistedGatewayV2 = z.infer<typeof PersistedGatewayV2Schema>
export type PersistedGuild = z.infer<typeof PersistedGuildSchema>
export type PersistedShard = z.infer<typeof PersistedShardSchema>
export type PersistedSessionInfo = z.infer<typeof SessionInfoSchema>

/** Serialises the voice store for persistence. */
export function persistVoiceState(state: VoiceStoreState): PersistedGatewayV1['voice'] {
  return {
    sessionId: state.sessionId,
    seq: state.seq,
    feedSeq: state.feedSeq,
    synced: state.synced,
    members: [...state.members.values()],
    profiles: [...state.profiles.entries()],
  }
}

/** Rebuilds the voice store from its persisted form. */
export function restoreVoiceState(
  guildId: string,
  voice: PersistedGatewayV1['voice'],
): VoiceStoreState {
  return {
    guildId,
    sessionId: voice.sessionId,
    seq: voice.seq,
    feedSeq: voice.feedSeq,
    synced: voice.synced,
    members: new Map(voice.members.map((m) => [m.userId, m])),
    profiles: new Map(voice.profiles),
  }
}

/**
 * The JSON text of `value`, produced in pieces with a turn of the event loop between them
 * (see jsonArrayChunks). Joined, the pieces equal `JSON.stringify(value)`. A guild with 10,000
 * members in voice is about 3 MB of JSON, which takes ~20 ms to serialise in one go: long enough to
 * delay every frame in flight.
 *
 * The value must not change while it is being serialised. The feed guarantees that: the arrays are
 * copies, and member and profile objects are replaced on change, never mutated.
 */
export async function* persistedJsonChunks(
  value: PersistedGateway,
  itemsPerChunk?: number,
): AsyncGenerator<string, void, undefined> {
  if (value.v === 1) {
    const { voice, ...top } = value
    yield* voiceChunks(`${JSON.stringify(top).slice(0, -1)},"voice":`, voice, '}', itemsPerChunk)
    return
  }
  const { guilds, ...top } = value
  let prefix = `${JSON.stringify(top).slice(0, -1)},"guilds":[`
  for (const guild of guilds) {
    const { voice, ...head } = guild
    yield* voiceChunks(
      `${prefix}${JSON.stringify(head).slice(0, -1)},"voice":`,
      voice,
      '}',
      itemsPerChunk,
    )
    prefix = ','
  }
  yield guilds.length === 0 ? `${prefix}]}` : ']}'
}

/** `prefix`, one guild's voice state in pieces, then `suffix` (joined to the first and last piece). */
async function* voiceChunks(
  prefix: string,
  voice: PersistedGatewayV1['voice'],
  suffix: string,
  itemsPerChunk?: number,
): AsyncGenerator<string, void, undefined> {
  const { members, profiles, ...voiceHead } = voice
  yield `${prefix}${JSON.stringify(voiceHead).slice(0, -1)},"members":[`
  yield* jsonArrayChunks(members, itemsPerChunk)
  yield '],"profiles":['
  yield* jsonArrayChunks(profiles, itemsPerChunk)
  yield `]}${suffix}`
}

/** Parses and validates stored JSON text; anything unreadable is null (the feed then identifies). */
export function parsePersistedGateway(text: string): PersistedGateway | null {
  try {
    const parsed = PersistedGatewaySchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
