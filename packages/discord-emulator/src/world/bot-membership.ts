import { GatewayDispatchEvents as E, GatewayIntentBits as I } from 'discord-api-types/v10'
import { DEFAULT_BOT_PERMISSIONS } from './default-world.ts'
import type { Guild } from './guild.ts'

/*
 * The bot joining and leaving a guild: what happens on Discord when the bot is installed with an
 * authorization link (scope `bot`) or kicked. Its managed role exists only while it is a member
 * (docs topics/permissions "Role Object": managed roles belong to an integration).
 */

/** Removes the bot, its voice state and its managed roles without any dispatch (seed time). */
export function leaveGuildSilently(guild: Guild): void {
  const bot = guild.botUserId
  const voice = guild.voice.get(bot)
  guild.voice.delete(bot)
  if (voice && guild.occupants(voice.channelId).length === 0) {
    guild.voiceStartedAt.delete(voice.channelId)
  }
  const roles = guild.members.get(bot)?.roles ?? []
  guild.members.delete(bot)
  for (const id of roles) if (guild.roles.get(id)?.managed) guild.roles.delete(id)
  for (const role of guild.seededBotRoles) guild.roles.delete(role.id)
}

/**
 * The bot is removed from the guild (kicked, or the guild owner removed the integration): its
 * sessions get GUILD_DELETE without `unavailable` (docs events/gateway-events "Guild Delete").
 * Returns false when it was not a member.
 */
export function removeBotFromGuild(guild: Guild): boolean {
  if (!guild.botInGuild) return false
  leaveGuildSilently(guild)
  guild.emit(E.GuildDelete, { id: guild.id }, I.Guilds)
  return true
}

/**
 * The bot is installed in the guild: its managed role comes back as seeded (with `permissions`
 * when given, as the install link's `permissions` parameter sets it), or, in a guild without a
 * seeded one, a new managed role named after the bot is created on top of the role list with
 * `permissions` (default {@link DEFAULT_BOT_PERMISSIONS}; none when `0`, as Discord creates no
 * role for an install without permissions). Its sessions get GUILD_CREATE (only `{id,
 * unavailable: true}` during an outage). Returns false when it was already a member (then only the
 * role's permissions change).
 */
export function addBotToGuild(guild: Guild, permissions?: bigint): boolean {
  const bot = guild.botUserId
  const seeded = guild.seededBotRoles
  if (guild.botInGuild) {
    const current = guild.members.get(bot)?.roles.find((id) => guild.roles.get(id)?.managed)
    if (current && permissions !== undefined) setRolePermissions(guild, current, permissions)
    return false
  }
  const roleIds: string[] = []
  if (seeded.length > 0) {
    seeded.forEach((r, i) => {
      guild.roles.set(r.id, {
        id: r.id,
        name: r.name,
        position: r.position,
        color: r.color,
        managed: true,
        permissions: i === 0 && permissions !== undefined ? permissions : BigInt(r.permissions),
      })
      roleIds.push(r.id)
    })
  } else if (permissions !== 0n) {
    const id = guild.host.ids.next()
    const top = Math.max(0, ...[...guild.roles.values()].map((r) => r.position))
    guild.roles.set(id, {
      id,
      name: guild.host.users.get(bot)?.username ?? 'bot',
      position: top + 1,
      color: 0,
      managed: true,
      permissions: permissions ?? BigInt(DEFAULT_BOT_PERMISSIONS),
    })
    roleIds.push(id)
  }
  guild.members.set(bot, guild.newMember(bot, roleIds, new Date().toISOString()))
  const d = guild.available ? guild.guildCreate() : { id: guild.id, unavailable: true }
  guild.emit(E.GuildCreate, d, I.Guilds)
  return true
}

/** Changes a role's permissions (GUILD_ROLE_UPDATE). */
export function setRolePermissions(guild: Guild, roleId: string, permissions: bigint): void {
  const role = guild.roles.get(roleId)
  if (!role) return
  role.permissions = permissions
  guild.emit(E.GuildRoleUpdate, { guild_id: guild.id, role: guild.apiRole(roleId) }, I.Guilds)
}
