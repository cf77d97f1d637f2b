import { VoiceMemberSchema } from '@repo/discord-integration/contracts'
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

const ProfileSchema = z.object({
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
