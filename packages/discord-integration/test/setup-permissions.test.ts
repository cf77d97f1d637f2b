import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import {
  ALL_PERMISSIONS,
  basePermissions,
  botInstallUrl,
  channelPermissions,
  denyingOverwrites,
  lackingPermissions,
  type OverwriteBits,
  type PermissionSubject,
  permissionBits,
  permissionLabel,
} from '../src/index'

/*
 * Discord's permission algorithm (docs topics/permissions, "Permission Overwrites" and "Implicit
 * Permissions"), case by case, with the setup doctor's naming and install link.
 */

const GUILD = '100000000000000000'
const BOT = '100000000000000001'
const OWNER = '100000000000000002'
const ROLE_A = '100000000000000010'
const ROLE_B = '100000000000000011'
const OTHER_ROLE = '100000000000000012'

const s = (...bits: bigint[]) => bits.reduce((a, b) => a | b, 0n).toString()
const bot: PermissionSubject = {
  guildId: GUILD,
  ownerId: OWNER,
  userId: BOT,
  memberRoleIds: [ROLE_A, ROLE_B],
}
const roles = [
  { id: GUILD, permissions: s(P.ViewChannel, P.Connect) },
  { id: ROLE_A, permissions: s(P.ManageChannels) },
  { id: ROLE_B, permissions: s(P.MoveMembers) },
  { id: OTHER_ROLE, permissions: s(P.ManageRoles) },
]
const overwrite = (
  id: string,
  type: 0 | 1,
  allow: bigint[] = [],
  deny: bigint[] = [],
): OverwriteBits => ({ id, type, allow: s(...allow), deny: s(...deny) })

describe('base permissions', () => {
  it("are @everyone's plus the roles the member has, and no other role's", () => {
    expect(basePermissions(bot, roles)).toBe(
      P.ViewChannel | P.Connect | P.ManageChannels | P.MoveMembers,
    )
  })

  it('are everything for the server owner and for Administrator', () => {
    expect(basePermissions({ ...bot, userId: OWNER }, roles)).toBe(ALL_PERMISSIONS)
    const withAdmin = [roles[0]!, { id: OTHER_ROLE, permissions: s(P.Administrator) }]
    expect(basePermissions({ ...bot, memberRoleIds: [OTHER_ROLE] }, withAdmin)).toBe(
      ALL_PERMISSIONS,
    )
  })
})

describe('channel permissions', () => {
  const base = basePermissions(bot, roles)

  it('apply the @everyone overwrite, then the roles together, then the member', () => {
    const overwrites = [
      overwrite(GUILD, 0, [P.Speak], [P.Connect]),
      overwrite(ROLE_A, 0, [], [P.MoveMembers]),
      overwrite(BOT, 1, [P.Connect]),
    ]
    expect(channelPermissions(base, bot, overwrites)).toBe(
      P.ViewChannel | P.Connect | P.Speak | P.ManageChannels,
    )
  })

  it("let one role's allow win over another role's deny (they are applied together)", () => {
    const overwrites = [
      overwrite(ROLE_A, 0, [], [P.ManageChannels]),
      overwrite(ROLE_B, 0, [P.ManageChannels]),
    ]
    expect(channelPermissions(base, bot, overwrites) & P.ManageChannels).toBe(P.ManageChannels)
  })

  it('ignore overwrites of roles the member does not have and of other members', () => {
    const overwrites = [
      overwrite(OTHER_ROLE, 0, [], [P.ManageChannels]),
      overwrite(OWNER, 1, [], [P.MoveMembers]),
    ]
    expect(channelPermissions(base, bot, overwrites)).toBe(base)
  })

  it('are nothing without View Channel, and lose the voice ones without Connect in voice only', () => {
    expect(channelPermissions(base, bot, [overwrite(ROLE_B, 0, [], [P.ViewChannel])])).toBe(0n)
    const noConnect = [overwrite(GUILD, 0, [], [P.Connect])]
    expect(channelPermissions(base, bot, noConnect, { voice: true }) & P.MoveMembers).toBe(0n)
    expect(channelPermissions(base, bot, noConnect) & P.MoveMembers).toBe(P.MoveMembers)
  })

  it('are everything with Administrator, whatever the overwrites', () => {
    const overwrites = [overwrite(BOT, 1, [], [P.ViewChannel, P.ManageChannels])]
    expect(channelPermissions(ALL_PERMISSIONS, bot, overwrites)).toBe(ALL_PERMISSIONS)
  })

  it('name the overwrites that deny a permission to the member, and only those', () => {
    const overwrites = [
      overwrite(GUILD, 0, [], [P.ManageChannels]),
      overwrite(ROLE_A, 0, [], [P.ManageChannels]),
      overwrite(OTHER_ROLE, 0, [], [P.ManageChannels]),
      overwrite(OWNER, 1, [], [P.ManageChannels]),
      overwrite(BOT, 1, [], [P.MoveMembers]),
    ]
    expect(denyingOverwrites('ManageChannels', bot, overwrites).map((o) => o.id)).toEqual([
      GUILD,
      ROLE_A,
    ])
    expect(denyingOverwrites('MoveMembers', bot, overwrites).map((o) => o.id)).toEqual([BOT])
  })
})

describe('names and the install link', () => {
  it("name permissions as Discord's client shows them", () => {
    expect(
      (
        [
          'ViewChannel',
          'ManageChannels',
          'ManageRoles',
          'Connect',
          'Speak',
          'Stream',
          'MoveMembers',
          'CreateInstantInvite',
        ] as const
      ).map(permissionLabel),
    ).toEqual([
      'View Channels',
      'Manage Channels',
      'Manage Roles',
      'Connect',
      'Speak',
      'Video',
      'Move Members',
      'Create Invite',
    ])
  })

  it('list what a bitfield lacks in the order asked', () => {
    expect(lackingPermissions(P.Connect, ['MoveMembers', 'Connect', 'Speak'])).toEqual([
      'MoveMembers',
      'Speak',
    ])
  })

  it('build the bot authorization link with the exact permission integer', () => {
    const permissions = permissionBits(['ManageChannels', 'MoveMembers']).toString()
    expect(permissions).toBe('16777232')
    expect(
      botInstallUrl({
        webUrl: 'https://discord.com',
        clientId: '157730590492196864',
        permissions,
        guildId: GUILD,
      }),
    ).toBe(
      `https://discord.com/oauth2/authorize?client_id=157730590492196864&scope=bot&permissions=16777232&guild_id=${GUILD}`,
    )
  })
})
