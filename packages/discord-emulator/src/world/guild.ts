import { randomBytes } from 'node:crypto'
import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { EmulatorError } from '../errors.ts'
import { computeBasePermissions, computeChannelPermissions } from './permissions.ts'
import type { RoleSeedData } from './seed.ts'
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
import type { SnowflakeGenerator } from './snowflake.ts'
import type {
  ChannelRecord,
  InviteRecord,
  MemberRecord,
  RoleRecord,
  UserRecord,
  VoiceStateRecord,
  WorldDispatch,
} from './types.ts'

/** Voice flags a caller may set with `setVoice`. */
export interface VoiceFlags {
  selfMute?: boolean
  selfDeaf?: boolean
  selfVideo?: boolean
  selfStream?: boolean
  mute?: boolean
  deaf?: boolean
}

/** What a guild needs from the world around it (users are global, guilds are not). */
export interface GuildHost {
  readonly botUserId: string
  readonly users: ReadonlyMap<string, UserRecord>
  readonly guilds: ReadonlyMap<string, Guild>
  readonly ids: SnowflakeGenerator
  onDispatch(event: WorldDispatch): void
}

/** How a guild starts. */
export interface GuildInit {
  id: string
  name: string
  ownerId: string
  /** When the bot joined (GUILD_CREATE `joined_at`) and seeded members joined. */
  joinedAt: string
  /** The bot's managed roles as seeded: a re-install restores them. */
  seededBotRoles: RoleSeedData[]
}

/**
 * One guild of the world: its members, roles, channels, voice states and invites, and whether it
 * is available (an outage makes it unavailable). Every mutation emits the dispatches Discord
 * would send, tagged with the guild so that the gateway routes them to the shard that owns it.
 */
export class Guild {
  readonly id: string
  readonly name: string
  readonly ownerId: string
  readonly joinedAt: string
  readonly seededBotRoles: RoleSeedData[]
  readonly members = new Map<string, MemberRecord>()
  readonly roles = new Map<string, RoleRecord>()
  readonly channels = new Map<string, ChannelRecord>()
  readonly voice = new Map<string, VoiceStateRecord>()
  readonly invites = new Map<string, InviteRecord>()
  /** When each occupied voice channel's session began (ms), for op 43's `voice_start_time`. */
  readonly voiceStartedAt = new Map<string, number>()
  /** False during an outage (GUILD_DELETE `unavailable: true` until GUILD_CREATE). */
  available = true

  constructor(
    readonly host: GuildHost,
    init: GuildInit,
  ) {
    this.id = init.id
    this.name = init.name
    this.ownerId = init.ownerId
    this.joinedAt = init.joinedAt
    this.seededBotRoles = init.seededBotRoles
  }

  get botUserId(): string {
    return this.host.botUserId
  }

  /** Whether the bot is a member of this guild. */
  get botInGuild(): boolean {
    return this.members.has(this.host.botUserId)
  }

  /** A new guild member record (no dispatch). */
  newMember(userId: string, roles: string[], joinedAt: string): MemberRecord {
    return { userId, roles: [...roles], nick: null, joinedAt, mute: false, deaf: false }
  }

  /** Connects a seeded voice state (no dispatch). */
  seedVoice(v: { userId: string; channelId: string; selfMute: boolean; selfDeaf: boolean }) {
    if (!this.members.has(v.userId) || this.channels.get(v.channelId)?.type !== 2) {
      throw new EmulatorError('INVALID_WORLD', `bad seeded voice state for ${v.userId}`)
    }
    this.voice.set(v.userId, { ...this.#blankVoice(v.userId, v.channelId), ...v })
    this.voiceStartedAt.set(v.channelId, Date.parse(this.joinedAt))
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

  /** Emits a dispatch of this guild (to sessions whose intents include `intent`). */
  emit(t: E, d: unknown, intent: number): void {
    this.host.onDispatch({ t, d, intent, guildId: this.id })
  }

  // ---- queries -------------------------------------------------------------------------------

  /** Discord's member object for a user, or null when not a member. */
  apiMember(userId: string) {
    const m = this.members.get(userId)
    const u = this.host.users.get(userId)
    return m && u ? toApiMember(m, u) : null
  }

  apiUser(userId: string) {
    const u = this.host.users.get(userId)
    return u ? toApiUser(u) : null
  }

  apiChannel(channelId: string) {
    const c = this.channels.get(channelId)
    return c ? toApiChannel(c, this.id) : null
  }

  apiChannels() {
    return [...this.channels.values()].map((c) => toApiChannel(c, this.id))
  }

  apiGuild() {
    const roles = [...this.roles.values()].map((r) => toApiRole(r, this.host.botUserId))
    return toApiGuild({
      id: this.id,
      name: this.name,
      ownerId: this.ownerId,
      applicationId: null,
      roles,
    })
  }

  apiRole(roleId: string) {
    const r = this.roles.get(roleId)
    return r ? toApiRole(r, this.host.botUserId) : null
  }

  apiVoiceState(userId: string) {
    const v = this.voice.get(userId)
    return v ? toApiVoiceState(v, this.id, this.apiMember(userId)) : null
  }

  /** GUILD_CREATE data as the bot sees it (members: the bot plus everyone in voice). */
  guildCreate() {
    const bot = this.host.botUserId
    const inVoice = new Set(this.voice.keys())
    const members = [...this.members.values()]
      .filter((m) => m.userId === bot || inVoice.has(m.userId))
      .map((m) => this.apiMember(m.userId))
      .filter((m) => m !== null)
    return toGuildCreate(this.apiGuild(), {
      joinedAt: this.members.get(bot)?.joinedAt ?? this.joinedAt,
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
      guildId: this.id,
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

  /** The highest position among a member's roles (0 = only @everyone). */
  topRolePosition(userId: string): number {
    const roles = this.members.get(userId)?.roles ?? []
    return Math.max(0, ...roles.map((id) => this.roles.get(id)?.position ?? 0))
  }

  // ---- members -------------------------------------------------------------------------------

  /** Adds a user to the guild (GUILD_MEMBER_ADD). Returns false if already a member. */
  addMember(
    userId: string,
    opts: { nick?: string | null; mute?: boolean; deaf?: boolean; roles?: string[] } = {},
  ) {
    if (!this.host.users.has(userId)) {
      throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
    }
    if (this.members.has(userId)) return false
    const m = this.newMember(userId, opts.roles ?? [], new Date().toISOString())
    m.nick = opts.nick ?? null
    m.mute = opts.mute ?? false
    m.deaf = opts.deaf ?? false
    this.members.set(userId, m)
    this.emit(E.GuildMemberAdd, { ...this.apiMember(userId), guild_id: this.id }, I.GuildMembers)
    return true
  }

  /** Removes a member: ends their voice state first (VSU null), then GUILD_MEMBER_REMOVE. */
  removeMember(userId: string): boolean {
    const m = this.members.get(userId)
    const u = this.host.users.get(userId)
    if (!m || !u) return false
    if (this.voice.has(userId)) this.setVoice(userId, null)
    this.members.delete(userId)
    this.emit(E.GuildMemberRemove, { guild_id: this.id, user: toApiUser(u) }, I.GuildMembers)
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
      { ...this.apiMember(userId), guild_id: this.id },
      userId === this.host.botUserId ? 0 : I.GuildMembers,
    )
  }

  /** A member's user profile changed: GUILD_MEMBER_UPDATE, and a VSU with it while in voice. */
  profileChanged(userId: string): void {
    if (!this.members.has(userId)) return
    this.emit(
      E.GuildMemberUpdate,
      { ...this.apiMember(userId), guild_id: this.id },
      userId === this.host.botUserId ? 0 : I.GuildMembers,
    )
    if (this.voice.has(userId)) {
      this.emit(E.VoiceStateUpdate, this.apiVoiceState(userId), I.GuildVoiceStates)
    }
  }

  // ---- voice ---------------------------------------------------------------------------------

  /**
   * Connects, moves, updates or disconnects (`channelId` null) a member's voice state and emits
   * VOICE_STATE_UPDATE. No permission checks: callers decide. A person is connected to one voice
   * channel at a time across Discord: joining here first disconnects them from another guild's
   * channel (VSU null there). A bot keeps one voice connection per guild.
   */
  setVoice(userId: string, channelId: string | null, flags: VoiceFlags = {}): void {
    const member = this.members.get(userId)
    if (!member) throw new EmulatorError('UNKNOWN_USER', `${userId} is not a member`)
    const current = this.voice.get(userId)
    if (channelId === null) {
      if (!current) return
      this.voice.delete(userId)
      this.#endVoiceSessionIfEmpty(current.channelId)
      const d = toLeftVoiceState(current, this.id, this.apiMember(userId))
      this.emit(E.VoiceStateUpdate, d, I.GuildVoiceStates)
      return
    }
    if (this.channels.get(channelId)?.type !== 2) {
      throw new EmulatorError('UNKNOWN_CHANNEL', `${channelId} is not a voice channel`)
    }
    if (!current && !this.host.users.get(userId)?.bot) {
      for (const other of this.host.guilds.values()) {
        if (other !== this && other.voice.has(userId)) other.setVoice(userId, null)
      }
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
