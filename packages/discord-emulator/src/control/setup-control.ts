import { randomBytes } from 'node:crypto'
import { GatewayCloseCodes } from 'discord-api-types/v10'
import { z } from 'zod'
import { EmulatorError } from '../errors.ts'
import type { Runtime } from '../runtime.ts'
import { addBotToGuild, removeBotFromGuild, setRolePermissions } from '../world/bot-membership.ts'
import { deleteOverwrite, putOverwrite } from '../world/channel-ops.ts'
import { guildOf } from './guild-control.ts'

/*
 * Control calls that change how the bot's application and guild are set up: what a person does in
 * Discord's Developer Portal and server settings. They let tests (and the setup doctor's tests)
 * reproduce a misconfigured deployment without restarting the emulator. A reset restores the seed.
 */

const Snowflake = z.string().regex(/^\d{17,20}$/, 'must be a snowflake string')
const Bitfield = z.string().regex(/^\d{1,30}$/, 'must be a decimal bitfield string')

export const SetupSchemas = {
  setApplication: z.object({
    redirectUris: z.array(z.string().url()).optional(),
    privilegedIntents: z
      .array(z.enum(['GUILD_MEMBERS', 'GUILD_PRESENCES', 'MESSAGE_CONTENT']))
      .optional(),
    approximateGuildCount: z.number().int().min(0).optional(),
  }),
  setBotMembership: z.object({
    member: z.boolean(),
    permissions: Bitfield.optional(),
    guildId: Snowflake.optional(),
  }),
  setRolePermissions: z.object({ roleId: Snowflake, permissions: Bitfield }),
  setChannelOverwrite: z.object({
    channelId: Snowflake,
    id: Snowflake,
    type: z.union([z.literal(0), z.literal(1)]),
    allow: Bitfield.default('0'),
    deny: Bitfield.default('0'),
  }),
  deleteChannelOverwrite: z.object({ channelId: Snowflake, id: Snowflake }),
}

export type SetApplicationInput = z.input<typeof SetupSchemas.setApplication>
export type SetBotMembershipInput = z.input<typeof SetupSchemas.setBotMembership>
export type SetRolePermissionsInput = z.input<typeof SetupSchemas.setRolePermissions>
export type SetChannelOverwriteInput = z.input<typeof SetupSchemas.setChannelOverwrite>
export type DeleteChannelOverwriteInput = z.input<typeof SetupSchemas.deleteChannelOverwrite>

/** The application as GET /applications/@me and the gateway see it. */
export interface ApplicationSetup {
  redirectUris: string[]
  privilegedIntents: string[]
  approximateGuildCount: number
}

/** The setup part of the control surface. */
export interface SetupControl {
  /** Portal settings: registered redirect URIs, enabled privileged intents, server count. */
  setApplication(input: SetApplicationInput): ApplicationSetup
  /** "Reset Token": the old token gets 401 / 4004 from now on; live connections close with 4004. */
  resetBotToken(): { token: string }
  /**
   * Installs (GUILD_CREATE) or removes (GUILD_DELETE) the bot in `guildId` (default: the default
   * guild); `permissions` sets its managed role.
   */
  setBotMembership(input: SetBotMembershipInput): void
  /** Changes a role's permissions (GUILD_ROLE_UPDATE). */
  setRolePermissions(input: SetRolePermissionsInput): void
  /** Creates or replaces a channel permission overwrite (CHANNEL_UPDATE). */
  setChannelOverwrite(input: SetChannelOverwriteInput): void
  /** Removes a channel permission overwrite (CHANNEL_UPDATE). */
  deleteChannelOverwrite(input: DeleteChannelOverwriteInput): void
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new EmulatorError('INVALID_INPUT', z.prettifyError(result.error).replace(/\n/g, '; '))
  }
  return result.data
}

/** A fresh Discord-shaped bot token for the same bot: base64(botId).<6>.<38>. */
function newBotToken(botId: string): string {
  const random = randomBytes(33).toString('base64url')
  return `${Buffer.from(botId).toString('base64url')}.${random.slice(0, 6)}.${random.slice(6, 44)}`
}

/** Builds the setup control calls over a runtime. */
export function createSetupControl(rt: Runtime): SetupControl {
  const channelGuild = (id: string) => {
    const guild = rt.world.channelGuild(id)
    if (!guild) throw new EmulatorError('UNKNOWN_CHANNEL', `unknown channel ${id}`)
    return guild
  }
  return {
    setApplication(input) {
      const d = parse(SetupSchemas.setApplication, input)
      const app = rt.world.application
      if (d.redirectUris) app.redirectUris = [...d.redirectUris]
      if (d.privilegedIntents) app.privilegedIntents = [...new Set(d.privilegedIntents)]
      if (d.approximateGuildCount !== undefined) {
        app.approximateGuildCount = d.approximateGuildCount
      }
      return {
        redirectUris: [...app.redirectUris],
        privilegedIntents: [...app.privilegedIntents],
        approximateGuildCount: app.approximateGuildCount,
      }
    },
    resetBotToken() {
      rt.world.botToken = newBotToken(rt.world.botUserId)
      rt.gateway.endAllSessions(GatewayCloseCodes.AuthenticationFailed)
      return { token: rt.world.botToken }
    },
    setBotMembership(input) {
      const d = parse(SetupSchemas.setBotMembership, input)
      const guild = guildOf(rt, d.guildId)
      if (d.member) {
        addBotToGuild(guild, d.permissions === undefined ? undefined : BigInt(d.permissions))
      } else {
        removeBotFromGuild(guild)
      }
    },
    setRolePermissions(input) {
      const d = parse(SetupSchemas.setRolePermissions, input)
      const guild = rt.world.roleGuild(d.roleId)
      if (!guild) throw new EmulatorError('INVALID_INPUT', `unknown role ${d.roleId}`)
      setRolePermissions(guild, d.roleId, BigInt(d.permissions))
    },
    setChannelOverwrite(input) {
      const d = parse(SetupSchemas.setChannelOverwrite, input)
      putOverwrite(channelGuild(d.channelId), d.channelId, {
        id: d.id,
        type: d.type,
        allow: BigInt(d.allow),
        deny: BigInt(d.deny),
      })
    },
    deleteChannelOverwrite(input) {
      const d = parse(SetupSchemas.deleteChannelOverwrite, input)
      deleteOverwrite(channelGuild(d.channelId), d.channelId, d.id)
    },
  }
}
