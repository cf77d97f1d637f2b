import { EmulatorError } from '../errors.ts'
import type { RestFault } from '../rest/faults.ts'
import type { RestLogEntry, Runtime } from '../runtime.ts'
import {
  ControlSchemas,
  parseControlInput as parse,
  type SetVoiceInput,
  type UpdateProfileInput,
} from './control-schemas.ts'
import {
  type EmulatorState,
  type EmulatorStats,
  emulatorState,
  emulatorStats,
} from './emulator-state.ts'
import { createGuildControl, type GuildControl, guildOf } from './guild-control.ts'
import { createSetupControl, type SetupControl } from './setup-control.ts'

export {
  ControlSchemas,
  type SetVoiceInput,
  SnowflakeInput,
  type UpdateProfileInput,
} from './control-schemas.ts'
export type { EmulatorState, EmulatorStats, ShardStats } from './emulator-state.ts'

/** Test / dev control surface (also served over HTTP under /_emulator). */
export interface EmulatorControl extends SetupControl, GuildControl {
  state(): EmulatorState
  createUser(input: { username: string; globalName?: string | null }): { id: string }
  /** Changes a user's username, display name or avatar: GUILD_MEMBER_UPDATE, and a VSU while in voice. */
  updateUserProfile(input: UpdateProfileInput): void
  /**
   * Voice in any guild: the channel names its guild; `channelId: null` leaves voice in `guildId`,
   * or wherever the user is connected when it is left out.
   */
  setVoice(input: SetVoiceInput): void
  /** Removes a member from `guildId` (default: the default guild). */
  removeMember(userId: string, guildId?: string): void
  /** Closes every connection (only those of shard `shard` when given) with `code`. */
  closeGateway(code: number, shard?: number): void
  reconnect(): void
  invalidate(resumable: boolean): void
  setHeartbeatAcks(enabled: boolean): void
  /** Op 1 to every connection: Discord asking for a heartbeat now. */
  requestHeartbeat(): void
  refuse(ms: number): void
  restart(): void
  restFault(input: RestFault): void
  reset(): void
  stats(): EmulatorStats
  /** The REST request log (newest last, at most 5000 entries). */
  restLog(): RestLogEntry[]
  /** Mints an OAuth access token for a user directly (tests), as if they had authorized with these scopes. */
  issueAccessToken(input: {
    userId: string
    scopes: string[]
    expiresInSeconds?: number
    /** Defaults to the bot's application. */
    clientId?: string
  }): { accessToken: string; refreshToken: string }
  /**
   * The user removes the application under Settings › Authorized Apps: every token of every
   * authorization they gave it stops working (API calls 401 / 50025, refresh `invalid_grant`).
   */
  deauthorize(input: { userId: string; clientId?: string }): { authorizations: number }
}

/** Builds the control handle over a runtime. `resetWorld` rebuilds the world from its seed. */
export function createControl(rt: Runtime, resetWorld: () => void): EmulatorControl {
  const stats = (): EmulatorStats => emulatorStats(rt)
  return {
    ...createSetupControl(rt),
    ...createGuildControl(rt),
    state: (): EmulatorState => emulatorState(rt),
    createUser(input) {
      const d = parse(ControlSchemas.createUser, input)
      return { id: rt.world.createUser(d.username, d.globalName ?? null).id }
    },
    updateUserProfile(input) {
      const { userId, ...patch } = parse(ControlSchemas.updateUserProfile, input)
      rt.world.updateUserProfile(userId, patch)
    },
    setVoice(input) {
      const { userId, channelId, guildId, ...flags } = parse(ControlSchemas.setVoice, input)
      const w = rt.world
      if (!w.users.has(userId)) throw new EmulatorError('UNKNOWN_USER', `unknown user ${userId}`)
      if (channelId === null) {
        const where = guildId === undefined ? [...w.guilds.values()] : [guildOf(rt, guildId)]
        for (const g of where) if (g.voice.has(userId)) g.setVoice(userId, null)
        return
      }
      const g = w.channelGuild(channelId)
      const isVoice = g?.channels.get(channelId)?.type === 2
      if (!g || !isVoice || (guildId !== undefined && g.id !== guildId)) {
        throw new EmulatorError('UNKNOWN_CHANNEL', `${channelId} is not a voice channel`)
      }
      if (!g.members.has(userId)) g.addMember(userId)
      g.setVoice(userId, channelId, flags)
    },
    removeMember(userId, guildId) {
      const d = parse(ControlSchemas.removeMember, { userId, guildId })
      const g = guildOf(rt, d.guildId)
      if (!g.removeMember(d.userId)) {
        throw new EmulatorError('UNKNOWN_USER', `${d.userId} is not a member`)
      }
    },
    closeGateway(code, shard) {
      const d = parse(ControlSchemas.closeGateway, { code, shard })
      rt.gateway.closeAll(d.code, d.shard)
    },
    reconnect: () => rt.gateway.reconnectAll(),
    invalidate(resumable) {
      rt.gateway.invalidateAll(parse(ControlSchemas.invalidate, { resumable }).resumable)
    },
    requestHeartbeat: () => rt.gateway.requestHeartbeats(),
    setHeartbeatAcks(enabled) {
      rt.gateway.setAcks(parse(ControlSchemas.heartbeatAcks, { enabled }).enabled)
    },
    refuse(ms) {
      rt.gateway.refuse(parse(ControlSchemas.refuse, { ms }).ms)
    },
    restart: () => rt.gateway.restart(),
    restFault(input) {
      rt.faults.add(parse(ControlSchemas.restFault, input))
    },
    reset() {
      rt.gateway.resetState()
      rt.oauth.clear()
      rt.faults.clear()
      rt.limiter.reset()
      rt.requestLog.length = 0
      resetWorld()
    },
    stats,
    restLog: () => [...rt.requestLog],
    issueAccessToken(input) {
      const d = parse(ControlSchemas.issueAccessToken, input)
      const clientId = d.clientId ?? rt.world.botUserId
      if (!rt.world.users.has(d.userId))
        throw new EmulatorError('UNKNOWN_USER', `unknown user ${d.userId}`)
      if (!rt.apps().some((a) => a.id === clientId)) {
        throw new EmulatorError('INVALID_INPUT', `unknown application ${clientId}`)
      }
      const t = rt.oauth.issue({ userId: d.userId, clientId, scopes: d.scopes }, d.expiresInSeconds)
      return { accessToken: t.access_token, refreshToken: t.refresh_token }
    },
    deauthorize(input) {
      const d = parse(ControlSchemas.deauthorize, input)
      if (!rt.world.users.has(d.userId))
        throw new EmulatorError('UNKNOWN_USER', `unknown user ${d.userId}`)
      return { authorizations: rt.oauth.deauthorize(d.userId, d.clientId ?? rt.world.botUserId) }
    },
  }
}
