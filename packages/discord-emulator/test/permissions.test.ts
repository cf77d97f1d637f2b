import { PermissionFlagsBits as P } from 'discord-api-types/v10'
import { describe, expect, it } from 'vitest'
import {
  ALL_PERMISSIONS,
  computeBasePermissions,
  computeChannelPermissions,
  type PermissionSubject,
} from '../src/world/permissions.ts'

const G = '100000000000000000'
const ROLE = '200000000000000000'
const USER = '300000000000000000'
const subject = (over: Partial<PermissionSubject> = {}): PermissionSubject => ({
  guildId: G,
  ownerId: '900000000000000000',
  userId: USER,
  memberRoles: [ROLE],
  rolePermissions: new Map([
    [G, P.ViewChannel | P.Connect],
    [ROLE, P.MoveMembers],
  ]),
  ...over,
})

describe('permission algorithm', () => {
  it('base = @everyone | roles; owner and ADMINISTRATOR get everything', () => {
    expect(computeBasePermissions(subject())).toBe(P.ViewChannel | P.Connect | P.MoveMembers)
    expect(computeBasePermissions(subject({ ownerId: USER }))).toBe(ALL_PERMISSIONS)
    const admin = subject({
      rolePermissions: new Map([
        [G, 0n],
        [ROLE, P.Administrator],
      ]),
    })
    expect(computeBasePermissions(admin)).toBe(ALL_PERMISSIONS)
    expect(
      computeChannelPermissions(
        admin,
        [{ id: USER, type: 1, allow: 0n, deny: P.ViewChannel }],
        true,
      ),
    ).toBe(ALL_PERMISSIONS)
  })

  it('applies @everyone, then roles, then member overwrites (deny before allow)', () => {
    const everyoneDeny = [{ id: G, type: 0 as const, allow: 0n, deny: P.ViewChannel | P.Connect }]
    expect(computeChannelPermissions(subject(), everyoneDeny, true)).toBe(0n)
    const roleAllows = [
      ...everyoneDeny,
      { id: ROLE, type: 0 as const, allow: P.ViewChannel | P.Connect, deny: 0n },
    ]
    expect(computeChannelPermissions(subject(), roleAllows, true)).toBe(
      P.ViewChannel | P.Connect | P.MoveMembers,
    )
    const memberDenies = [...roleAllows, { id: USER, type: 1 as const, allow: 0n, deny: P.Connect }]
    // No CONNECT in a voice channel also removes the voice permissions (MOVE_MEMBERS).
    expect(computeChannelPermissions(subject(), memberDenies, true)).toBe(P.ViewChannel)
    expect(computeChannelPermissions(subject(), memberDenies, false)).toBe(
      P.ViewChannel | P.MoveMembers,
    )
    // A role overwrite for a role the member lacks is ignored.
    const otherRole = [
      { id: '400000000000000000', type: 0 as const, allow: P.Speak, deny: P.ViewChannel },
    ]
    expect(computeChannelPermissions(subject(), otherRole, true)).toBe(
      P.ViewChannel | P.Connect | P.MoveMembers,
    )
  })

  it('member allow beats role deny', () => {
    const o = [
      { id: ROLE, type: 0 as const, allow: 0n, deny: P.Connect },
      { id: USER, type: 1 as const, allow: P.Connect, deny: 0n },
    ]
    expect(computeChannelPermissions(subject(), o, true) & P.Connect).toBe(P.Connect)
  })
})
