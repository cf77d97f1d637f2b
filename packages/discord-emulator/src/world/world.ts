import { createHash, randomBytes } from 'node:crypto'
import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { EmulatorError } from '../errors.ts'
import { type ApplicationConfig, applicationFromSeed } from './application.ts'
import { leaveGuildSilently } from './bot-membership.ts'
import { computeBasePermissions, computeChannelPermissions } from './permissions.ts'
import type { ParsedWorldSeed } from './seed.ts'
import {
  toApiChannel,
  toApiGuild,
  toApiMember,
  toApiRole,
  toApiUser,
  toApiVoiceState,
  toGuildCreate,
  toLeftVoiceState,
} from './serialize.ts'
import { SnowflakeGenerator } from './snowflake.ts'
import type {
  ChannelRecord,
  InviteRecord,
  MemberRecord,
  RoleRecord,
  UserRecord,
  VoiceStateRecord,
  WorldDispatch,
} from './types.ts'

/** Channel limits; a benchmark may lift them. */
export interface WorldLimits {
  channelsPerGuild: number
  channelsPerCategory: number
}

/** Voice flags a caller may set with `setVoice`. */
export interface VoiceFlags {
  selfMute?: boolean
  selfDeaf?: boolean
  selfVideo?: boolean
  selfStream?: boolean
  mute?: boolean
  deaf?: boolean
}

/** Deterministic Discord-shaped bot token: base64(botId).<6>.<38>. */
export function defaultBotToken(botId: string): string {
  const b64 = Buffer.from(botId).toString('base64url')
  const h = createHash('sha256').update(`table-voice-emulator:${botId}`).digest('base64url')
  return `${b64}.${h.slice(0, 6)}.${h.slice(6, 44)}`
}

/**
 * The in-memory Discord world: one guild with its users, roles, channels, voice states and
 * invites. Every mutation emits the dispatches Discord would send through `onDispatch`.
 */
export class World {
  readonly guildId: string
  readonly guildName: string
  readonly ownerId: string
  readonly botUserId: string
  /** The bot's current token (a reset through the control API replaces it). */
  botToken: string
  /** The application as configured in the "Developer Portal". */
  readonly application: ApplicationConfig
  readonly joinedAt: string
  readonly users = new Map<string, UserRecord>()
  readonly members = new Map<string, MemberRecord>()
  readonly roles = new Map<string, RoleRecord>()
  readonly channels = new Map<string, ChannelRecord>()
  readonly voice = new Map<string, VoiceStateRecord>()
  readonly invites = new Map<string, InviteRecord>()
  /** When each occupied voice channel's session began (ms), for op 43's `voice_start_time`. */
  readonly voiceStartedAt = new Map<string, number>()
  readonly ids = new SnowflakeGenerator()
  onDispatch: (event: WorldDispatch) => void = () => {}

  constructor(
    readonly seed: ParsedWorldSeed,
    readonly limits: WorldLimits,
  ) {
    this.guildId = seed.guild.id
    this.guildName = seed.guild.name
    this.ownerId = seed.guild.ownerId
    this.botUserId = seed.bot.id
    this.botToken = seed.bot.token ?? defaultBotToken(seed.bot.id)
    this.application = applicationFromSeed(seed)
    this.joinedAt = new Date(Date.UTC(2021, 4, 12, 18, 31)).toISOString()
    this.users.set(seed.bot.id, {
      id: seed.bot.id,
      username: seed.bot.username,
      globalName: null,
      avatar: null,
      bot: true,
    })
    this.members.set(seed.bot.id, this.newMember(seed.bot.id, seed.bot.roles, this.joinedAt))
    for (const u of seed.users) {
      this.users.set(u.id, { ...u, bot: false })
      if (u.member) this.members.set(u.id, this.newMember(u.id, u.roles, this.joinedAt))
    }
    for (const r of seed.roles) this.roles.set(r.id, { ...r, permissions: BigInt(r.permissions) })
    if (!this.roles.has(this.guildId)) {
      throw new EmulatorError('INVALID_WORLD', 'the world needs an @everyone role (id = guild id)')
    }
    for (const c of seed.channels) {
      this.channels.set(c.id, {
        ...c,
        overwrites: c.permissionOverwrites.map((o) => ({
          id: o.id,
          type: o.type,
          allow: BigInt(o.allow),
          deny: BigInt(o.deny),
        })),
      })
    }
    if (!seed.bot.inGuild) leaveGuildSilently(this)
    for (const v of seed.voiceStates) {
      if (!this.members.has(v.userId) || this.channels.get(v.channelId)?.type !== 2) {
        throw new EmulatorError('INVALID_WORLD', `bad seeded voice state for ${v.userId}`)
      }
      this.voice.set(v.userId, { ...this.#blankVoice(v.userId, v.channelId), ...v })
      this.voiceStartedAt.set(v.channelId, Date.parse(this.joinedAt))
    }
  }

  /** A new guild member record (no dispatch). */
  newMember(userId: string, roles: string[], joinedAt: string): MemberRecord {
    return { userId, roles: [...roles], nick: null, joinedAt, mute: false, deaf: false }
  }

  #blankVoice(userId: string, channelId: string): VoiceStateRecord {
    return {
      userId,
      channelId,
      sessionId: randomBytes(16).toString('hex'),
      mute: false,
      deaf: false,
      selfMute: false,
      selfDeaf: false,
      selfVideo: false,
      selfStream: false,
    }
  }

  /** Whether the bot is a member of the guild. */
  get botInGuild(): boolean {
    return this.members.has(this.botUserId)
  }

  /** Emits a dispatch to the gateway (sessions whose intents include `intent`). */
  emit(t: E, d: unknown, intent: number): void {
    this.onDispatch({ t, d, intent })
  }

  // ---- queries -------------------------------------------------------------------------------

  /** Discord's member object for a user, or null when not a member. */
  apiMember(userId: string) {
    const m = this.members.get(userId)
    const u = this.users.get(userId)
    return m && u ? toApiMember(m, u) : null
  }

  apiUser(userId: string) {
    const u = this.users.get(userId)
    return u ? toApiUser(u) : null
  }

  apiChannel(channelId: string) {
    const c = this.channels.get(channelId)
    return c ? toApiChannel(c, this.guildId) : null
  }

  apiChannels() {
    return [...this.channels.values()].map((c) => toApiChannel(c, this.guildId))
  }

  apiGuild() {
    const roles = [...this.roles.values()].map((r) => toApiRole(r, this.botUserId))
    return toApiGuild({
      id: this.guildId,
      name: this.guildName,
      ownerId: this.ownerId,
      applicationId: null,
      roles,
    })
  }

  apiRole(roleId: string) {
    const r = this.roles.get(roleId)
    return r ? toApiRole(r, this.botUserId) : null
  }

  apiVoiceState(userId: string) {
    const v = this.voice.get(userId)
    return v ? toApiVoiceState(v, this.guildId, this.apiMember(userId)) : null
  }

  /** GUILD_CREATE data as the bot sees it (members: the bot plus everyone in voice). */
  guildCreate() {
    const inVoice = new Set(this.voice.keys())
    const members = [...this.members.values()]
      .filter((m) => m.userId === this.botUserId || inVoice.has(m.userId))
      .map((m) => this.apiMember(m.userId))
      .filter((m) => m !== null)
    return toGuildCreate(this.apiGuild(), {
      joinedAt: this.members.get(this.botUserId)?.joinedAt ?? this.joinedAt,
      memberCount: this.members.size,
      channels: this.apiChannels(),
      members,
      voiceStates: [...this.voice.values()].map((v) => toApiVoiceState(v, null, null)),
    })
  }

  /** Guild-level permissions of a member (0n for non-members). */
  basePermissions(userId: string): bigint {
    const m = this.members.get(userId)
    if (!m) return 0n
    return computeBasePermissions(this.#subject(m))
  }

  /** Channel-level permissions of a member (0n for non-members). */
  channelPermissions(userId: string, channelId: string): bigint {
    const m = this.members.get(userId)
    const c = this.channels.get(channelId)
    if (!m || !c) return 0n
    return computeChannelPermissions(this.#subject(m), c.overwrites, c.type === 2)
  }

  #subject(m: MemberRecord) {
    const rolePermissions = new Map([...this.roles.values()].map((r) => [r.id, r.permissions]))
    return {
      guildId: this.guildId,
      ownerId: this.ownerId,
      userId: m.userId,
      memberRoles: m.roles,
      rolePermissions,
    }
  }

  /** Users currently connected to a voice channel. */
  occupants(channelId: string): string[] {
    return [...this.voice.values()].filter((v) => v.channelId === channelId).map((v) => v.userId)
  }

  childCount(categoryId: string): number {
    return [...this.channels.values()].filter((c) => c.parentId === categoryId).length
  }

  // ---- users and members ---------------------------------------------------------------------

  createUser(username: string, globalName: string | null): UserRecord {
    const user: UserRecord = { id: this.ids.next(), username, globalName, avatar: null, bot: false }
    this.users.set(user.id, user)
    return user
  }

  /**
   * Changes a user's profile (username, global display name, avatar hash), as when they edit it in
   * Discord. A guild member's change reaches the bot as GUILD_MEMBER_UPDATE (GUILD_MEMBERS intent);
   * while they are in voice, a VOICE_STATE_UPDATE with the new `member` follows (voice intent).
   */
  updateUserProfile(
    userId: string,
    patch: Partial<Pick<UserRecord, 'username' | 'globalName' | 'avatar'>>,
  ): void {
    const user = this.users.get(userId)
    if (!user) throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
    Object.assign(user, patch)
    if (!this.members.has(userId)) return
    this.emit(
      E.GuildMemberUpdate,
      { ...this.apiMember(userId), guild_id: this.guildId },
      userId === this.botUserId ? 0 : I.GuildMembers,
    )
    if (this.voice.has(userId)) {
      this.emit(E.VoiceStateUpdate, this.apiVoiceState(userId), I.GuildVoiceStates)
    }
  }

  /** Adds a user to the guild (GUILD_MEMBER_ADD). Returns false if already a member. */
  addMember(userId: string, opts: { nick?: string | null; mute?: boolean; deaf?: boolean } = {}) {
    if (!this.users.has(userId)) throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
    if (this.members.has(userId)) return false
    const m = this.newMember(userId, [], new Date().toISOString())
    m.nick = opts.nick ?? null
    m.mute = opts.mute ?? false
    m.deaf = opts.deaf ?? false
    this.members.set(userId, m)
    this.emit(
      E.GuildMemberAdd,
      { ...this.apiMember(userId), guild_id: this.guildId },
      I.GuildMembers,
    )
    return true
  }

  /** Removes a member: ends their voice state first (VSU null), then GUILD_MEMBER_REMOVE. */
  removeMember(userId: string): boolean {
    const m = this.members.get(userId)
    const u = this.users.get(userId)
    if (!m || !u) return false
    if (this.voice.has(userId)) this.setVoice(userId, null)
    this.members.delete(userId)
    this.emit(E.GuildMemberRemove, { guild_id: this.guildId, user: toApiUser(u) }, I.GuildMembers)
    return true
  }

  /** Applies a member edit and emits GUILD_MEMBER_UPDATE. */
  updateMember(
    userId: string,
    patch: Partial<Pick<MemberRecord, 'nick' | 'roles' | 'mute' | 'deaf'>>,
  ) {
    const m = this.members.get(userId)
    if (!m) throw new EmulatorError('UNKNOWN_USER', `${userId} is not a member`)
    Object.assign(m, patch)
    // Sent for the current user's own updates whatever the intents (docs events/gateway "Caveats").
    this.emit(
      E.GuildMemberUpdate,
      { ...this.apiMember(userId), guild_id: this.guildId },
      userId === this.botUserId ? 0 : I.GuildMembers,
    )
  }

  // ---- voice ---------------------------------------------------------------------------------

  /**
   * Connects, moves, updates or disconnects (`channelId` null) a member's voice state and emits
   * VOICE_STATE_UPDATE. No permission checks: callers decide.
   */
  setVoice(userId: string, channelId: string | null, flags: VoiceFlags = {}): void {
    const member = this.members.get(userId)
    if (!member) throw new EmulatorError('UNKNOWN_USER', `${userId} is not a member`)
    const current = this.voice.get(userId)
    if (channelId === null) {
      if (!current) return
      this.voice.delete(userId)
      this.#endVoiceSessionIfEmpty(current.channelId)
      const d = toLeftVoiceState(current, this.guildId, this.apiMember(userId))
      this.emit(E.VoiceStateUpdate, d, I.GuildVoiceStates)
      return
    }
    if (this.channels.get(channelId)?.type !== 2) {
      throw new EmulatorError('UNKNOWN_CHANNEL', `${channelId} is not a voice channel`)
    }
    const next = { ...(current ?? this.#blankVoice(userId, channelId)), channelId }
    for (const key of ['selfMute', 'selfDeaf', 'selfVideo', 'selfStream'] as const) {
      const value = flags[key]
      if (value !== undefined) next[key] = value
    }
    next.mute = flags.mute ?? member.mute
    next.deaf = flags.deaf ?? member.deaf
    member.mute = next.mute
    member.deaf = next.deaf
    this.voice.set(userId, next)
    if (current?.channelId !== channelId) {
      if (!this.voiceStartedAt.has(channelId)) this.voiceStartedAt.set(channelId, Date.now())
      if (current) this.#endVoiceSessionIfEmpty(current.channelId)
    }
    this.emit(E.VoiceStateUpdate, this.apiVoiceState(userId), I.GuildVoiceStates)
  }

  #endVoiceSessionIfEmpty(channelId: string): void {
    if (this.occupants(channelId).length === 0) this.voiceStartedAt.delete(channelId)
  }
}
