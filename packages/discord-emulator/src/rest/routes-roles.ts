import { GatewayDispatchEvents, PermissionFlagsBits as P } from 'discord-api-types/v10'
import { z } from 'zod'
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

function botTop(ctx: RestContext): number {
  const w = ctx.rt.world
  const roles = w.members.get(w.botUserId)?.roles ?? []
  return Math.max(0, ...roles.map((id) => w.roles.get(id)?.position ?? 0))
}

function manageableRole(ctx: RestContext, roleId: string) {
  const role = ctx.rt.world.roles.get(roleId)
  if (!role || roleId === ctx.rt.world.guildId) throw Errors.unknownRole()
  if (role.managed || role.position >= botTop(ctx)) throw Errors.missingPermissions()
  return role
}

/** Role routes (a private room may use a role per game). */
export const roleRoutes: RouteDef[] = [
  route('GET', '/guilds/:guildId/roles', 'bot', (ctx) => {
    requireGuild(ctx)
    const w = ctx.rt.world
    return { status: 200, body: [...w.roles.values()].map((r) => toApiRole(r, w.botUserId)) }
  }),
  route('POST', '/guilds/:guildId/roles', 'bot', (ctx) => {
    requireGuild(ctx)
    requireBotPermission(ctx, P.ManageRoles)
    const w = ctx.rt.world
    const body = parseBody(ctx, CreateRoleBody, {})
    if ((body.permissions & ~w.basePermissions(w.botUserId)) !== 0n)
      throw Errors.missingPermissions()
    const id = w.ids.next()
    // New roles go right above @everyone, like Discord.
    for (const r of w.roles.values()) if (r.id !== w.guildId) r.position++
    w.roles.set(id, {
      id,
      name: body.name || 'new role',
      permissions: body.permissions,
      position: 1,
      color: body.color ?? 0,
      managed: false,
    })
    const role = toApiRole(w.roles.get(id)!, w.botUserId)
    w.onDispatch({
      t: GatewayDispatchEvents.GuildRoleCreate,
      d: { guild_id: w.guildId, role },
      intent: 1,
    })
    return { status: 200, body: role }
  }),
  route('DELETE', '/guilds/:guildId/roles/:roleId', 'bot', (ctx) => {
    requireGuild(ctx)
    requireBotPermission(ctx, P.ManageRoles)
    const w = ctx.rt.world
    const role = manageableRole(ctx, ctx.params.roleId ?? '')
    w.roles.delete(role.id)
    for (const m of w.members.values()) m.roles = m.roles.filter((r) => r !== role.id)
    w.onDispatch({
      t: GatewayDispatchEvents.GuildRoleDelete,
      d: { guild_id: w.guildId, role_id: role.id },
      intent: 1,
    })
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
  requireGuild(ctx)
  requireBotPermission(ctx, P.ManageRoles)
  const w = ctx.rt.world
  const member = w.members.get(ctx.params.userId ?? '')
  if (!member) throw Errors.unknownMember()
  const role = manageableRole(ctx, ctx.params.roleId ?? '')
  const has = member.roles.includes(role.id)
  if (add && !has) w.updateMember(member.userId, { roles: [...member.roles, role.id] })
  if (!add && has)
    w.updateMember(member.userId, { roles: member.roles.filter((r) => r !== role.id) })
  return { status: 204 }
}
