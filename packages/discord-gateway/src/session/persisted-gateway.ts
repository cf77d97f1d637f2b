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

/**
 * What survives a restart: the gateway session and the voice state it reflects, as one consistent pair
 * (`session.sequence === voice.seq` whenever both name the same session).
 */
export const PersistedGatewaySchema = z.object({
  v: z.literal(1),
  guildId: z.string(),
  savedAt: z.number(),
  session: SessionInfoSchema.nullable(),
  voice: z.object({
    sessionId: z.string().nullable(),
    seq: z.number().int().nonnegative(),
    feedSeq: z.number().int().nonnegative(),
    synced: z.boolean(),
    members: z.array(VoiceMemberSchema),
    profiles: z.array(z.tuple([z.string(), ProfileSchema])),
  }),
})
export type PersistedGateway = z.infer<typeof PersistedGatewaySchema>
export type PersistedSessionInfo = z.infer<typeof SessionInfoSchema>

/** Serialises the voice store for persistence. */
export function persistVoiceState(state: VoiceStoreState): PersistedGateway['voice'] {
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
  voice: PersistedGateway['voice'],
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
  const { voice, ...top } = value
  const { members, profiles, ...voiceHead } = voice
  yield `${JSON.stringify(top).slice(0, -1)},"voice":${JSON.stringify(voiceHead).slice(0, -1)},"members":[`
  yield* jsonArrayChunks(members, itemsPerChunk)
  yield '],"profiles":['
  yield* jsonArrayChunks(profiles, itemsPerChunk)
  yield ']}}'
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
