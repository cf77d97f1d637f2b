import type { RoomRecord } from '../../src/features/rooms/room-store'

let n = 0
/** A plausible stored room for store tests. */
export function roomRecord(overrides: Partial<RoomRecord> = {}): RoomRecord {
  n++
  return {
    id: `room_${String(n).padStart(8, '0')}`,
    name: `Room ${n}`,
    guildId: '100000000000000001',
    channelId: `2000000000000${String(n).padStart(5, '0')}`,
    categoryId: '300000000000000001',
    ownerId: '400000000000000001',
    players: [
      {
        userId: '400000000000000001',
        username: 'owner',
        globalName: null,
        avatar: null,
        joinedAt: 1,
      },
    ],
    status: 'open',
    createdAt: 1,
    closesAt: null,
    inviteVersion: 1,
    inviteExpiresAt: 2,
    inviteToken: 'token',
    lastActivityAt: 1,
    spectators: [],
    locked: false,
    code: null,
    linksRev: 0,
    watchVersion: 0,
    watchToken: null,
    watchExpiresAt: null,
    ...overrides,
  }
}
