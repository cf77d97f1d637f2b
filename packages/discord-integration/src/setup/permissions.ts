import { PermissionFlagsBits } from 'discord-api-types/v10'

/** A permission by its discord-api-types name (`ManageChannels`, `MoveMembers`, ...). */
export type PermissionName = keyof typeof PermissionFlagsBits

/** Every permission bit Discord defines: what the server owner and an Administrator hold. */
export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((a, b) => a | b, 0n)

/**
 * The names Discord's client shows in Server Settings → Roles, where they are not the API name
 * with spaces (docs topics/permissions: "permission names may be referred to differently in the
 * Discord client"). In a channel's or category's Permissions, Manage Roles is shown as "Manage
 * Permissions" and View Channels as "View Channel".
 */
const CLIENT_NAMES: Partial<Record<PermissionName, string>> = {
  CreateInstantInvite: 'Create Invite',
  ViewChannel: 'View Channels',
  ManageGuild: 'Manage Server',
  Stream: 'Video',
  UseVAD: 'Use Voice Activity',
  ModerateMembers: 'Timeout Members',
}

/** The name a person finds in Discord's settings: `MoveMembers` → "Move Members". */
export function permissionLabel(name: PermissionName): string {
  return CLIENT_NAMES[name] ?? name.replace(/([a-z])([A-Z])/g, '$1 $2')
}

/** The bitfield of `names` (the install link's `permissions` integer). */
export function permissionBits(names: readonly PermissionName[]): bigint {
  return names.reduce((bits, name) => bits | PermissionFlagsBits[name], 0n)
}

/** The names of `required` that `held` lacks, in the order given. */
export function lackingPermissions(
  held: bigint,
  required: readonly PermissionName[],
): PermissionName[] {
  return required.filter((name) => (held & PermissionFlagsBits[name]) === 0n)
}

/** A role as `GET /guilds/{id}` lists it (only what the algorithm reads). */
export interface RoleBits {
  id: string
  permissions: string
}

/** A channel permission overwrite as Discord sends it (type 0 role, 1 member). */
export interface OverwriteBits {
  id: string
  type: number
  allow: string
  deny: string
}

/** Who the permissions are computed for. */
export interface PermissionSubject {
  guildId: string
  ownerId: string
  userId: string
  /** The member's role ids (`GET /guilds/{g}/members/{u}` `roles`; @everyone not included). */
  memberRoleIds: readonly string[]
}

/*
 * Discord's documented permission algorithm, written out by hand: discord.js computes it only on
 * the structures of a logged-in Client's cache, and no maintained library does it for plain REST
 * payloads. Kept apart from the emulator's own copy on purpose: the emulator is the test double.
 */

/**
 * Base (server-level) permissions: @everyone's plus every role the member has; the owner and
 * anyone with Administrator hold everything.
 * @see https://discord.com/developers/docs/topics/permissions#permission-overwrites
 */
export function basePermissions(subject: PermissionSubject, roles: readonly RoleBits[]): bigint {
  if (subject.userId === subject.ownerId) return ALL_PERMISSIONS
  const held = new Set([subject.guildId, ...subject.memberRoleIds])
  const permissions = roles
    .filter((role) => held.has(role.id))
    .reduce((bits, role) => bits | BigInt(role.permissions), 0n)
  return permissions & PermissionFlagsBits.Administrator ? ALL_PERMISSIONS : permissions
}

/**
 * Permissions in one channel or category: the base, then the @everyone overwrite (deny, then
 * allow), all of the member's role overwrites together (deny, then allow), then the member's own
 * overwrite. Administrator ignores overwrites. Without View Channel nothing else applies; in a
 * voice channel, without Connect the voice permissions do not.
 * @see https://discord.com/developers/docs/topics/permissions#permission-overwrites
 * @see https://discord.com/developers/docs/topics/permissions#implicit-permissions
 */
export function channelPermissions(
  base: bigint,
  subject: PermissionSubject,
  overwrites: readonly OverwriteBits[],
  options: { voice?: boolean } = {},
): bigint {
  if (base & PermissionFlagsBits.Administrator) return ALL_PERMISSIONS
  let permissions = base
  const everyone = overwrites.find((o) => o.type === 0 && o.id === subject.guildId)
  if (everyone) permissions = (permissions & ~BigInt(everyone.deny)) | BigInt(everyone.allow)
  let allow = 0n
  let deny = 0n
  for (const o of overwrites) {
    if (o.type === 0 && o.id !== subject.guildId && subject.memberRoleIds.includes(o.id)) {
      allow |= BigInt(o.allow)
      deny |= BigInt(o.deny)
    }
  }
  permissions = (permissions & ~deny) | allow
  const member = overwrites.find((o) => o.type === 1 && o.id === subject.userId)
  if (member) permissions = (permissions & ~BigInt(member.deny)) | BigInt(member.allow)
  if ((permissions & PermissionFlagsBits.ViewChannel) === 0n) return 0n
  if (options.voice && (permissions & PermissionFlagsBits.Connect) === 0n) {
    permissions &= ~VOICE_ONLY
  }
  return permissions
}

/** What a voice channel's Connect denial takes away with it. */
const VOICE_ONLY =
  PermissionFlagsBits.Speak |
  PermissionFlagsBits.MuteMembers |
  PermissionFlagsBits.DeafenMembers |
  PermissionFlagsBits.MoveMembers |
  PermissionFlagsBits.UseVAD |
  PermissionFlagsBits.PrioritySpeaker |
  PermissionFlagsBits.Stream

/**
 * The overwrites of a channel that deny `name` to the subject (its @everyone, role and member
 * overwrites), so a fix can say which entry to change. Empty when `name` is lost only because
 * View Channel is.
 */
export function denyingOverwrites(
  name: PermissionName,
  subject: PermissionSubject,
  overwrites: readonly OverwriteBits[],
): OverwriteBits[] {
  const bit = PermissionFlagsBits[name]
  return overwrites.filter((o) => {
    const applies =
      o.type === 1
        ? o.id === subject.userId
        : o.id === subject.guildId || subject.memberRoleIds.includes(o.id)
    return applies && (BigInt(o.deny) & bit) !== 0n
  })
}
