import { describe, expect, it } from 'vitest'
import {
  CreateRoomInputSchema,
  canManageGuild,
  DEFAULT_SERVER_ROOM_SETTINGS,
  needsSignIn,
  SaveServerSettingsInputSchema,
  ServerRoomSettingsSchema,
} from '../src/contracts/index'

describe('community server contracts', () => {
  it('Manage Server is the owner, bit 0x20, or Administrator; anything else is not', () => {
    expect(canManageGuild({ owner: true, permissions: '0' })).toBe(true)
    expect(canManageGuild({ owner: false, permissions: '32' })).toBe(true)
    expect(canManageGuild({ owner: false, permissions: String(0x20 | 0x400) })).toBe(true)
    expect(canManageGuild({ owner: false, permissions: '8' })).toBe(true)
    expect(canManageGuild({ owner: false, permissions: String(0x400 | 0x10) })).toBe(false)
    // Above 2^53: permissions are compared as big integers.
    expect(canManageGuild({ owner: false, permissions: (2n ** 60n).toString() })).toBe(false)
    expect(canManageGuild({ owner: false, permissions: (2n ** 60n + 32n).toString() })).toBe(true)
    expect(canManageGuild({ owner: false, permissions: 'x' })).toBe(false)
  })

  it('settings: a trimmed category name, 1 to 490 open rooms, a snowflake role or none', () => {
    expect(ServerRoomSettingsSchema.parse(DEFAULT_SERVER_ROOM_SETTINGS)).toEqual(
      DEFAULT_SERVER_ROOM_SETTINGS,
    )
    const saved = SaveServerSettingsInputSchema.parse({
      guildId: '842106352435597312',
      roomsEnabled: false,
      categoryName: '  Game   nights ',
      maxOpenRooms: 12,
      requiredRoleId: null,
    })
    expect(saved.categoryName).toBe('Game nights')
    const bad = (patch: Record<string, unknown>) =>
      ServerRoomSettingsSchema.safeParse({ ...DEFAULT_SERVER_ROOM_SETTINGS, ...patch }).success
    expect(bad({ categoryName: '   ' })).toBe(false)
    expect(bad({ categoryName: 'x'.repeat(101) })).toBe(false)
    expect(bad({ maxOpenRooms: 0 })).toBe(false)
    expect(bad({ maxOpenRooms: 491 })).toBe(false)
    expect(bad({ maxOpenRooms: 2.5 })).toBe(false)
    expect(bad({ requiredRoleId: 'mods' })).toBe(false)
    expect(bad({ requiredRoleId: '842831129198596098' })).toBe(true)
  })

  it('a room may name the community server it goes to; SERVERS_SIGN_IN asks for a new sign-in', () => {
    expect(CreateRoomInputSchema.parse({ name: 'x', guildId: '842106352435597312' }).guildId).toBe(
      '842106352435597312',
    )
    expect(CreateRoomInputSchema.parse({ name: 'x' }).guildId).toBeUndefined()
    expect(CreateRoomInputSchema.safeParse({ name: 'x', guildId: '12' }).success).toBe(false)
    expect(needsSignIn('SERVERS_SIGN_IN')).toBe(true)
    expect(needsSignIn('MANAGE_SERVER_REQUIRED')).toBe(false)
  })
})
