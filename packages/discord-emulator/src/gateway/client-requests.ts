import {
  GatewayCloseCodes as C,
  GatewayDispatchEvents as E,
  GatewayIntentBits as I,
  GatewayOpcodes as Op,
  PermissionFlagsBits as P,
} from 'discord-api-types/v10'
import { has } from '../world/permissions.ts'
import type { World } from '../world/world.ts'
import type { GatewayConnection } from './connection.ts'
import { RequestChannelInfoSchema, RequestMembersSchema, VoiceUpdateSchema } from './payloads.ts'
import type { GatewaySession } from './session.ts'

/** Minimum time between two "all members" requests for one guild. */
const ALL_MEMBERS_INTERVAL_MS = 30_000

/**
 * Op 8: answers with GUILD_MEMBERS_CHUNK dispatches (≤1000 members each). Asking for the whole
 * list needs GUILD_MEMBERS; doing it twice within 30 s gets a RATE_LIMITED dispatch.
 */
export function handleRequestMembers(
  host: { lastAllMembersRequest: Map<string, number> },
  world: World,
  conn: GatewayConnection,
  session: GatewaySession,
  raw: unknown,
): void {
  const parsed = RequestMembersSchema.safeParse(raw)
  if (!parsed.success) {
    conn.close(C.DecodeError, 'Error while decoding payload.')
    return
  }
  const d = parsed.data
  const guild = world.guild(d.guild_id)
  // A guild the bot is not in, or that another shard owns, gets no answer.
  if (!guild?.botInGuild || !session.owns(guild.id)) return
  const all = d.user_ids === undefined && d.query === '' && (d.limit ?? 0) === 0
  if (all && (session.intents & I.GuildMembers) === 0) {
    conn.close(C.DisallowedIntents, 'Disallowed intent(s).')
    return
  }
  if (all) {
    const last = host.lastAllMembersRequest.get(d.guild_id) ?? 0
    const wait = ALL_MEMBERS_INTERVAL_MS - (Date.now() - last)
    if (wait > 0) {
      const meta = { guild_id: d.guild_id, ...(d.nonce ? { nonce: d.nonce } : {}) }
      session.dispatch(E.RateLimited, {
        opcode: Op.RequestGuildMembers,
        retry_after: wait / 1000,
        meta,
      })
      return
    }
    host.lastAllMembersRequest.set(d.guild_id, Date.now())
  }
  let ids: string[]
  const notFound: string[] = []
  if (d.user_ids !== undefined) {
    const wanted = Array.isArray(d.user_ids) ? d.user_ids : [d.user_ids]
    ids = wanted.filter((id) => guild.members.has(id))
    for (const id of wanted) if (!guild.members.has(id)) notFound.push(id)
  } else {
    const q = (d.query ?? '').toLowerCase()
    const limit = all ? Number.POSITIVE_INFINITY : Math.min(d.limit || 100, 100)
    ids = [...guild.members.keys()]
      .filter((id) => world.users.get(id)?.username.toLowerCase().startsWith(q))
      .slice(0, limit)
  }
  const members = ids.map((id) => guild.apiMember(id)).filter((m) => m !== null)
  const chunkCount = Math.max(1, Math.ceil(members.length / 1000))
  for (let i = 0; i < chunkCount; i++) {
    session.dispatch(E.GuildMembersChunk, {
      guild_id: guild.id,
      members: members.slice(i * 1000, (i + 1) * 1000),
      chunk_index: i,
      chunk_count: chunkCount,
      ...(i === 0 && notFound.length > 0 ? { not_found: notFound } : {}),
      ...(d.nonce ? { nonce: d.nonce } : {}),
    })
  }
}

/**
 * Op 4: moves the bot's own voice connection. Silently ignored when the bot may not connect
 * (no CONNECT, or the channel is full and the bot lacks MOVE_MEMBERS).
 */
export function handleVoiceUpdate(
  world: World,
  conn: GatewayConnection,
  session: GatewaySession,
  raw: unknown,
): void {
  const parsed = VoiceUpdateSchema.safeParse(raw)
  if (!parsed.success) {
    conn.close(C.DecodeError, 'Error while decoding payload.')
    return
  }
  const d = parsed.data
  const guild = world.guild(d.guild_id)
  if (!guild?.botInGuild || !session.owns(guild.id)) return
  const bot = world.botUserId
  if (d.channel_id === null) {
    guild.setVoice(bot, null)
    return
  }
  const channel = guild.channels.get(d.channel_id)
  if (channel?.type !== 2) return
  const perms = guild.channelPermissions(bot, channel.id)
  if (!has(perms, P.ViewChannel | P.Connect)) return
  const full = channel.userLimit > 0 && guild.occupants(channel.id).length >= channel.userLimit
  if (full && !has(perms, P.MoveMembers)) return
  guild.setVoice(bot, channel.id, { selfMute: d.self_mute, selfDeaf: d.self_deaf })
}

/**
 * Op 43: answers CHANNEL_INFO with the requested ephemeral fields of the guild's voice channels
 * (docs events/gateway-events "Request Channel Info"). No channel has a status in the emulator;
 * `voice_start_time` is when the channel's current voice session began (null when empty).
 */
export function handleRequestChannelInfo(
  world: World,
  conn: GatewayConnection,
  session: GatewaySession,
  raw: unknown,
): void {
  const parsed = RequestChannelInfoSchema.safeParse(raw)
  if (!parsed.success) {
    conn.close(C.DecodeError, 'Error while decoding payload.')
    return
  }
  const { guild_id: guildId, fields } = parsed.data
  const guild = world.guild(guildId)
  if (!guild?.botInGuild || !session.owns(guildId)) return
  const channels = [...guild.channels.values()]
    .filter((c) => c.type === 2)
    .map((c) => {
      const started = guild.voiceStartedAt.get(c.id)
      return {
        id: c.id,
        ...(fields.includes('status') ? { status: null } : {}),
        ...(fields.includes('voice_start_time')
          ? { voice_start_time: started === undefined ? null : Math.floor(started / 1000) }
          : {}),
      }
    })
  session.dispatch(E.ChannelInfo, { guild_id: guildId, channels })
}
