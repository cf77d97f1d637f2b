import type {
  APIBaseVoiceState,
  APIGuildMember,
  APIUser,
  GatewayDispatchPayload,
} from 'discord-api-types/v10'
import { ChannelType, GatewayDispatchEvents, GatewayOpcodes } from 'discord-api-types/v10'

/** Test builders for typed Discord dispatches (shapes from discord-api-types). */

export const GUILD = '100000000000000001'
export const OTHER_GUILD = '100000000000000002'

export function user(id: string, username = `user${id.slice(-4)}`): APIUser {
  return {
    id,
    username,
    global_name: `Global ${username}`,
    avatar: `av${id.slice(-4)}`,
    discriminator: '0',
  }
}

export function member(id: string, username?: string): APIGuildMember {
  return {
    user: user(id, username),
    roles: [],
    joined_at: '2026-01-01T00:00:00.000Z',
    deaf: false,
    mute: false,
    flags: 0 as APIGuildMember['flags'],
  }
}

export interface Flags {
  mute?: boolean
  deaf?: boolean
  selfMute?: boolean
  selfDeaf?: boolean
  selfVideo?: boolean
  selfStream?: boolean
  suppress?: boolean
}

export function voiceState(
  userId: string,
  channelId: string | null,
  flags: Flags = {},
  username?: string,
): APIBaseVoiceState {
  return {
    channel_id: channelId,
    user_id: userId,
    member: member(userId, username),
    session_id: `vs-${userId}`,
    deaf: flags.deaf ?? false,
    mute: flags.mute ?? false,
    self_deaf: flags.selfDeaf ?? false,
    self_mute: flags.selfMute ?? false,
    self_stream: flags.selfStream ?? false,
    self_video: flags.selfVideo ?? false,
    suppress: flags.suppress ?? false,
    request_to_speak_timestamp: null,
  }
}

export function ready(s: number, sessionId: string): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.Ready,
    s,
    d: {
      v: 10,
      user: { ...user('999999999999999999', 'bot'), bot: true },
      guilds: [{ id: GUILD, unavailable: true }],
      session_id: sessionId,
      resume_gateway_url: 'ws://127.0.0.1:1/resume',
      application: { id: '999999999999999999', flags: 0 },
    },
  } as unknown as GatewayDispatchPayload
}

export function guildCreate(
  s: number,
  states: APIBaseVoiceState[],
  guildId = GUILD,
): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.GuildCreate,
    s,
    d: {
      id: guildId,
      name: 'Guild',
      unavailable: false,
      voice_states: states.map(({ member: _m, ...rest }) => rest),
      members: states.flatMap((vs) => (vs.member ? [vs.member] : [])),
      channels: [],
      threads: [],
      presences: [],
    },
  } as unknown as GatewayDispatchPayload
}

export function vsu(s: number, state: APIBaseVoiceState, guildId = GUILD): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.VoiceStateUpdate,
    s,
    d: { ...state, guild_id: guildId },
  }
}

export function memberRemove(s: number, userId: string, guildId = GUILD): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.GuildMemberRemove,
    s,
    d: { guild_id: guildId, user: user(userId) },
  }
}

export function channelDelete(
  s: number,
  channelId: string,
  guildId = GUILD,
): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.ChannelDelete,
    s,
    d: {
      id: channelId,
      type: ChannelType.GuildVoice,
      guild_id: guildId,
      name: 'room',
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      parent_id: null,
      bitrate: 64000,
      user_limit: 4,
      rtc_region: null,
      rate_limit_per_user: 0,
      last_message_id: null,
    },
  } as unknown as GatewayDispatchPayload
}

export function resumed(s: number): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t: GatewayDispatchEvents.Resumed,
    s,
    d: undefined,
  } as unknown as GatewayDispatchPayload
}

/** GUILD_MEMBER_UPDATE (or ADD) for `userId` with the given username (GUILD_MEMBERS intent). */
export function memberUpdate(
  s: number,
  userId: string,
  username: string,
  t:
    | GatewayDispatchEvents.GuildMemberUpdate
    | GatewayDispatchEvents.GuildMemberAdd = GatewayDispatchEvents.GuildMemberUpdate,
  guildId = GUILD,
): GatewayDispatchPayload {
  return {
    op: GatewayOpcodes.Dispatch,
    t,
    s,
    d: { ...member(userId, username), guild_id: guildId },
  } as unknown as GatewayDispatchPayload
}
