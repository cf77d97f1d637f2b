import {
  DEFAULT_SERVER_ROOM_SETTINGS,
  type ServerRoomSettings,
} from '@repo/discord-integration/contracts'
import { describe, expect, it } from 'vitest'
import {
  type CommunityGuildUsage,
  communityPlacement,
  type PlacementSeam,
} from '../../src/server/community-placement'

const HOME = '842106352435597312'
const COMMUNITY = '900000000000000001'

function setup(
  overrides: {
    settings?: Partial<ServerRoomSettings>
    placeable?: boolean
    usage?: Partial<CommunityGuildUsage>
  } = {},
) {
  const poolCalls: unknown[] = []
  const pool: PlacementSeam = {
    async choose(request) {
      poolCalls.push(request)
      return HOME
    },
    settle: () => {},
  }
  const placement = communityPlacement(pool, {
    pool: [HOME],
    settings: async () => ({ ...DEFAULT_SERVER_ROOM_SETTINGS, ...overrides.settings }),
    placeable: () => overrides.placeable ?? true,
    usage: async (ids) =>
      ids.map((guildId) => ({ guildId, rooms: 0, freeRooms: 490, ...overrides.usage })),
  })
  return { placement, poolCalls }
}

describe('community placement', () => {
  it('leaves no pick, and a pick of a pool server, to the pool placement', async () => {
    const { placement, poolCalls } = setup()
    expect(await placement.choose()).toBe(HOME)
    expect(await placement.choose({ requestedGuildId: HOME })).toBe(HOME)
    expect(poolCalls).toEqual([{}, { requestedGuildId: HOME }])
  })

  it('places a room in a picked community server that has room', async () => {
    const { placement, poolCalls } = setup({ usage: { rooms: 49 } })
    expect(await placement.choose({ requestedGuildId: COMMUNITY })).toBe(COMMUNITY)
    expect(poolCalls).toEqual([])
  })

  it('refuses a server with rooms off or not ready, one at its most open rooms, one Discord finds full', async () => {
    const code = (o: Parameters<typeof setup>[0]) =>
      setup(o)
        .placement.choose({ requestedGuildId: COMMUNITY })
        .catch((error: { code: string }) => error.code)
    expect(await code({ settings: { roomsEnabled: false } })).toBe('SERVER_NOT_ALLOWED')
    expect(await code({ placeable: false })).toBe('SERVER_NOT_ALLOWED')
    expect(await code({ settings: { maxOpenRooms: 3 }, usage: { rooms: 3 } })).toBe('SERVER_FULL')
    expect(await code({ usage: { freeRooms: 0 } })).toBe('NO_CAPACITY')
    expect(
      await setup()
        .placement.choose({ requestedGuildId: COMMUNITY, exclude: new Set([COMMUNITY]) })
        .catch((error: { code: string }) => error.code),
    ).toBe('NO_CAPACITY')
  })
})
