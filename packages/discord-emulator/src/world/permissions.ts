import { PermissionFlagsBits } from 'discord-api-types/v10'

/** Every permission bit Discord defines. */
export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((a, b) => a | b, 0n)

/** Permissions lost in a voice channel without CONNECT. */
const VOICE_ONLY =
  PermissionFlagsBits.Speak |
  PermissionFlagsBits.MuteMembers |
  PermissionFlagsBits.DeafenMembers |
  PermissionFlagsBits.MoveMembers |
  PermissionFlagsBits.UseVAD |
  PermissionFlagsBits.PrioritySpeaker |
  PermissionFlagsBits.Stream

/** A permission overwrite with bitfields already parsed. */
export interface Overwrite {
  id: string
  /** 0 = role, 1 = member */
  type: 0 | 1
  allow: bigint
  deny: bigint
}

/** What the algorithm needs to know about a guild and a member. */
export interface PermissionSubject {
  guildId: string
  ownerId: string
  userId: string
  /** Role ids the member holds (without @everyone). */
  memberRoles: readonly string[]
  /** Role id -> permissions. Must contain @everyone (id = guild id). */
  rolePermissions: ReadonlyMap<string, bigint>
}

/**
 * Base (guild-level) permissions: @everyone plus every role; owner and ADMINISTRATOR get all.
 * @see https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export function computeBasePermissions(s: PermissionSubject): bigint {
  if (s.userId === s.ownerId) return ALL_PERMISSIONS
  let perms = s.rolePermissions.get(s.guildId) ?? 0n
  for (const roleId of s.memberRoles) perms |= s.rolePermissions.get(roleId) ?? 0n
  if ((perms & PermissionFlagsBits.Administrator) !== 0n) return ALL_PERMISSIONS
  return perms
}

/**
 * Channel permissions: base, then the @everyone overwrite, all role overwrites together, then
 * the member overwrite (deny before allow at each step). No VIEW_CHANNEL denies everything; in a
 * voice channel no CONNECT denies the voice permissions.
 */
export function computeChannelPermissions(
  s: PermissionSubject,
  overwrites: readonly Overwrite[],
  isVoice: boolean,
): bigint {
  const base = computeBasePermissions(s)
  if ((base & PermissionFlagsBits.Administrator) !== 0n || s.userId === s.ownerId) {
    return ALL_PERMISSIONS
  }
  let perms = base
  const everyone = overwrites.find((o) => o.type === 0 && o.id === s.guildId)
  if (everyone) perms = (perms & ~everyone.deny) | everyone.allow
  let allow = 0n
  let deny = 0n
  for (const o of overwrites) {
    if (o.type === 0 && o.id !== s.guildId && s.memberRoles.includes(o.id)) {
      allow |= o.allow
      deny |= o.deny
    }
  }
  perms = (perms & ~deny) | allow
  const member = overwrites.find((o) => o.type === 1 && o.id === s.userId)
  if (member) perms = (perms & ~member.deny) | member.allow
  if ((perms & PermissionFlagsBits.ViewChannel) === 0n) return 0n
  if (isVoice && (perms & PermissionFlagsBits.Connect) === 0n) perms &= ~VOICE_ONLY
  return perms
}

/** True when every bit of `needed` is in `perms`. */
export function has(perms: bigint, needed: bigint): boolean {
  return (perms & needed) === needed
}
