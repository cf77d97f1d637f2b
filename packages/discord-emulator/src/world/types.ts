import type { GatewayDispatchEvents } from 'discord-api-types/v10'
import type { Overwrite } from './permissions.ts'

/** A Discord user known to the emulator. */
export interface UserRecord {
  id: string
  username: string
  globalName: string | null
  avatar: string | null
  bot: boolean
}

/** A guild membership. */
export interface MemberRecord {
  userId: string
  roles: string[]
  nick: string | null
  joinedAt: string
  mute: boolean
  deaf: boolean
}

/** A guild role. `id === guildId` is @everyone. */
export interface RoleRecord {
  id: string
  name: string
  permissions: bigint
  position: number
  color: number
  managed: boolean
}

/** Channel types the emulator models: text, voice, category. */
export type EmulatedChannelType = 0 | 2 | 4

/** A guild channel. */
export interface ChannelRecord {
  id: string
  name: string
  type: EmulatedChannelType
  parentId: string | null
  position: number
  userLimit: number
  bitrate: number
  overwrites: Overwrite[]
}

/** A user's connection to a voice channel. */
export interface VoiceStateRecord {
  userId: string
  channelId: string
  sessionId: string
  mute: boolean
  deaf: boolean
  selfMute: boolean
  selfDeaf: boolean
  selfVideo: boolean
  selfStream: boolean
}

/** A channel invite. */
export interface InviteRecord {
  code: string
  channelId: string
  inviterId: string
  maxAge: number
  maxUses: number
  temporary: boolean
  uses: number
  createdAt: string
}

/**
 * A dispatch the world wants delivered to gateway sessions whose intents include `intent`, on the
 * shard that owns `guildId` (every emulated event belongs to a guild).
 */
export interface WorldDispatch {
  t: GatewayDispatchEvents
  d: unknown
  /** Intent bit required to receive it (0 = always). */
  intent: number
  guildId: string
}
