import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import type { World } from './world.ts'

/*
 * The bot joining and leaving the guild: what happens on Discord when the bot is installed with an
 * authorization link (scope `bot`) or kicked. Its managed role exists only while it is a member
 * (docs topics/permissions "Role Object": managed roles belong to an integration).
 */

/** The bot's managed roles as the seed defines them. */
function seededBotRoles(world: World) {
  const ids = new Set(world.seed.bot.roles)
  return world.seed.roles.filter((r) => ids.has(r.id) && r.managed)
}

/** Removes the bot, its voice state and its managed roles without any dispatch (seed time). */
export function leaveGuildSilently(world: World): void {
  const bot = world.botUserId
  const voice = world.voice.get(bot)
  world.voice.delete(bot)
  if (voice && world.occupants(voice.channelId).length === 0) {
    world.voiceStartedAt.delete(voice.channelId)
  }
  world.members.delete(bot)
  for (const role of seededBotRoles(world)) world.roles.delete(role.id)
}

/**
 * The bot is removed from the guild (kicked, or the guild owner removed the integration): its
 * sessions get GUILD_DELETE without `unavailable` (docs events/gateway-events "Guild Delete").
 * Returns false when it was not a member.
 */
export function removeBotFromGuild(world: World): boolean {
  if (!world.botInGuild) return false
  leaveGuildSilently(world)
  world.emit(E.GuildDelete, { id: world.guildId }, I.Guilds)
  return true
}

/**
 * The bot is installed in the guild: its managed role comes back (with `permissions` when given,
 * as the install link's `permissions` parameter sets it), and its sessions get GUILD_CREATE.
 * Returns false when it was already a member (then only the role's permissions change).
 */
export function addBotToGuild(world: World, permissions?: bigint): boolean {
  const bot = world.botUserId
  const roles = seededBotRoles(world)
  if (world.botInGuild) {
    const first = roles[0] && world.roles.get(roles[0].id)
    if (first && permissions !== undefined) setRolePermissions(world, first.id, permissions)
    return false
  }
  roles.forEach((r, i) => {
    world.roles.set(r.id, {
      id: r.id,
      name: r.name,
      position: r.position,
      color: r.color,
      managed: true,
      permissions: i === 0 && permissions !== undefined ? permissions : BigInt(r.permissions),
    })
  })
  world.members.set(
    bot,
    world.newMember(
      bot,
      roles.map((r) => r.id),
      new Date().toISOString(),
    ),
  )
  world.emit(E.GuildCreate, world.guildCreate(), I.Guilds)
  return true
}

/** Changes a role's permissions (GUILD_ROLE_UPDATE). */
export function setRolePermissions(world: World, roleId: string, permissions: bigint): void {
  const role = world.roles.get(roleId)
  if (!role) return
  role.permissions = permissions
  world.emit(E.GuildRoleUpdate, { guild_id: world.guildId, role: world.apiRole(roleId) }, I.Guilds)
}
