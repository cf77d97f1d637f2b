import type {
  APIChannel,
  APIGuild,
  APIGuildMember,
  APIInvite,
  APIRole,
  APIUser,
  APIVoiceState,
  GatewayGuildCreateDispatchData,
  GatewayVoiceState,
  GuildMemberFlags,
  GuildSystemChannelFlags,
  RoleFlags,
  UserFlags,
} from 'discord-api-types/v10'
import type {
  ChannelRecord,
  InviteRecord,
  MemberRecord,
  RoleRecord,
  UserRecord,
  VoiceStateRecord,
} from './types.ts'

/** Serialises a user as Discord's user object. */
export function toApiUser(u: UserRecord): APIUser {
  return {
    id: u.id,
    username: u.username,
    discriminator: '0',
    global_name: u.globalName,
    avatar: u.avatar,
    ...(u.bot ? { bot: true } : {}),
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
  }
}

/** Serialises a guild member (with its user). */
export function toApiMember(m: MemberRecord, u: UserRecord): APIGuildMember {
  return {
    user: toApiUser(u),
    nick: m.nick,
    avatar: null,
    banner: null,
    roles: [...m.roles],
    joined_at: m.joinedAt,
    premium_since: null,
    deaf: m.deaf,
    mute: m.mute,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  }
}

/** Serialises a role. */
export function toApiRole(r: RoleRecord, botId: string | null): APIRole {
  return {
    id: r.id,
    name: r.name,
    color: r.color,
    colors: { primary_color: r.color, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: r.position,
    permissions: r.permissions.toString(),
    managed: r.managed,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...(r.managed && botId ? { tags: { bot_id: botId } } : {}),
  }
}

/** Serialises a guild channel. */
export function toApiChannel(c: ChannelRecord, guildId: string): APIChannel {
  const overwrites = c.overwrites.map((o) => ({
    id: o.id,
    type: o.type,
    allow: o.allow.toString(),
    deny: o.deny.toString(),
  }))
  const common = {
    id: c.id,
    guild_id: guildId,
    name: c.name,
    position: c.position,
    permission_overwrites: overwrites,
    flags: 0,
  }
  if (c.type === 4) return { ...common, type: 4, parent_id: null } as APIChannel
  if (c.type === 2) {
    return {
      ...common,
      type: 2,
      parent_id: c.parentId,
      nsfw: false,
      bitrate: c.bitrate,
      user_limit: c.userLimit,
      rtc_region: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    } as APIChannel
  }
  return {
    ...common,
    type: 0,
    parent_id: c.parentId,
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
  } as APIChannel
}

/** Serialises a voice state; `guildId` null gives the GUILD_CREATE form (no guild_id, no member). */
export function toApiVoiceState(
  v: VoiceStateRecord,
  guildId: string | null,
  member: APIGuildMember | null,
): APIVoiceState {
  const state: GatewayVoiceState = {
    channel_id: v.channelId,
    user_id: v.userId,
    session_id: v.sessionId,
    deaf: v.deaf,
    mute: v.mute,
    self_deaf: v.selfDeaf,
    self_mute: v.selfMute,
    self_stream: v.selfStream,
    self_video: v.selfVideo,
    suppress: false,
    request_to_speak_timestamp: null,
  }
  if (guildId) state.guild_id = guildId
  if (member) state.member = member
  return state as APIVoiceState
}

/** The VOICE_STATE_UPDATE payload for a user who left voice. */
export function toLeftVoiceState(
  v: VoiceStateRecord,
  guildId: string,
  member: APIGuildMember | null,
): APIVoiceState {
  return { ...toApiVoiceState(v, guildId, member), channel_id: null }
}

/** Inputs to build the guild object. */
export interface GuildView {
  id: string
  name: string
  ownerId: string
  applicationId: string | null
  roles: APIRole[]
}

/** Serialises the guild (REST GET /guilds/{id}). */
export function toApiGuild(g: GuildView): APIGuild {
  return {
    id: g.id,
    name: g.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: g.roles,
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0 as GuildSystemChannelFlags,
    rules_channel_id: null,
    max_members: 500000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US' as APIGuild['preferred_locale'],
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  }
}

/** Builds GUILD_CREATE's data: the guild plus the gateway-only extra fields. */
export function toGuildCreate(
  guild: APIGuild,
  extra: {
    joinedAt: string
    memberCount: number
    channels: APIChannel[]
    members: APIGuildMember[]
    voiceStates: APIVoiceState[]
  },
): GatewayGuildCreateDispatchData {
  return {
    ...guild,
    joined_at: extra.joinedAt,
    large: extra.memberCount > 250,
    unavailable: false,
    member_count: extra.memberCount,
    voice_states: extra.voiceStates,
    members: extra.members,
    channels: extra.channels,
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  } as GatewayGuildCreateDispatchData
}

/** Serialises an invite (with metadata). */
export function toApiInvite(
  i: InviteRecord,
  guild: { id: string; name: string },
  channel: { id: string; name: string; type: number },
  inviter: APIUser,
): APIInvite & Record<string, unknown> {
  const expires =
    i.maxAge === 0 ? null : new Date(Date.parse(i.createdAt) + i.maxAge * 1000).toISOString()
  return {
    type: 0,
    code: i.code,
    guild: {
      id: guild.id,
      name: guild.name,
      splash: null,
      banner: null,
      description: null,
      icon: null,
      features: [],
      verification_level: 0,
      vanity_url_code: null,
      nsfw_level: 0,
      premium_subscription_count: 0,
    },
    channel: { id: channel.id, name: channel.name, type: channel.type },
    inviter,
    expires_at: expires,
    uses: i.uses,
    max_uses: i.maxUses,
    max_age: i.maxAge,
    temporary: i.temporary,
    created_at: i.createdAt,
  } as unknown as APIInvite & Record<string, unknown>
}
