import {
  GatewayDispatchEvents as E,
  GatewayIntentBits as I,
  PermissionFlagsBits as P,
} from 'discord-api-types/v10'
import { z } from 'zod'
import type { Guild } from '../world/guild.ts'
import { createRole } from '../world/guild-ops.ts'
import { toApiRole } from '../world/serialize.ts'
import { Errors } from './errors.ts'
import { BitfieldField, parseBody, requireBotPermission, requireGuild } from './guards.ts'
import { type RestContext, type RouteDef, route } from './route.ts'

const CreateRoleBody = z.object({
  name: z.string().max(100).nullish(),
  permissions: BitfieldField,
  color: z.number().int().min(0).max(0xffffff).nullish(),
  hoist: z.boolean().nullish(),
  mentionable: z.boolean().nullish(),
})

/** A role the bot may manage: below its highest role and not managed. */
function manageableRole(guild: Guild, roleId: string) {
  const role = guild.roles.get(roleId)
  if (!role || roleId === guild.id) throw Errors.unknownRole()
  if (role.managed || role.position >= guild.topRolePosition(guild.botUserId)) {
    throw Errors.missingPermissions()
  }
  return role
}

/** Role routes (a private room may use a role per game). */
export const roleRoutes: RouteDef[] = [
  route('GET', '/guilds/:guildId/roles', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    const roles = [...guild.roles.values()].map((r) => toApiRole(r, guild.botUserId))
    return { status: 200, body: roles }
  }),
  route('POST', '/guilds/:guildId/roles', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    requireBotPermission(guild, P.ManageRoles)
    const body = parseBody(ctx, CreateRoleBody, {})
    if ((body.permissions & ~guild.basePermissions(guild.botUserId)) !== 0n) {
      throw Errors.missingPermissions()
    }
    // New roles go right above @everyone, like Discord.
    const role = createRole(guild, {
      name: body.name || 'new role',
      permissions: body.permissions,
      color: body.color ?? 0,
    })
    return { status: 200, body: toApiRole(role, guild.botUserId) }
  }),
  route('DELETE', '/guilds/:guildId/roles/:roleId', 'bot', (ctx) => {
    const guild = requireGuild(ctx)
    requireBotPermission(guild, P.ManageRoles)
    const role = manageableRole(guild, ctx.params.roleId ?? '')
    guild.roles.delete(role.id)
    for (const m of guild.members.values()) m.roles = m.roles.filter((r) => r !== role.id)
    guild.emit(E.GuildRoleDelete, { guild_id: guild.id, role_id: role.id }, I.Guilds)
    return { status: 204 }
  }),
  route('PUT', '/guilds/:guildId/members/:userId/roles/:roleId', 'bot', (ctx) =>
    memberRole(ctx, true),
  ),
  route('DELETE', '/guilds/:guildId/members/:userId/roles/:roleId', 'bot', (ctx) =>
    memberRole(ctx, false),
  ),
]

function memberRole(ctx: RestContext, add: boolean) {
  const guild = requireGuild(ctx)
  requireBotPermission(guild, P.ManageRoles)
  const member = guild.members.get(ctx.params.userId ?? '')
  if (!member) throw Errors.unknownMember()
  const role = manageableRole(guild, ctx.params.roleId ?? '')
  const has = member.roles.includes(role.id)
  if (add && !has) guild.updateMember(member.userId, { roles: [...member.roles, role.id] })
  if (!add && has) {
    guild.updateMember(member.userId, { roles: member.roles.filter((r) => r !== role.id) })
  }
  return { status: 204 }
}
