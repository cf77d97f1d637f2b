import type { StoredServerSettings } from '@repo/discord-integration/contracts'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ServerSettingsStore } from '../../src/features/servers/server-settings-store'

/** One store under test, with what the contract needs around it. */
export interface SettingsStoreUnderTest {
  store: ServerSettingsStore
  /** Another handle on the same data: another node for a shared store, the instance itself otherwise. */
  other(): Promise<ServerSettingsStore>
  /** A new handle on the same data once `store` is closed: a restart. */
  reopen(): Promise<ServerSettingsStore>
  dispose(): Promise<void>
}

export interface SettingsStoreFactory {
  create(): Promise<SettingsStoreUnderTest>
}

let nextGuild = 0
/** A guild id of its own per call (tests run shuffled, each owns its data). */
export function guildId(): string {
  return String(900_000_000_000_000_000n + BigInt(++nextGuild))
}

export function storedSettings(
  guild: string,
  overrides: Partial<StoredServerSettings> = {},
): StoredServerSettings {
  return {
    guildId: guild,
    roomsEnabled: true,
    categoryName: 'Game nights',
    maxOpenRooms: 20,
    requiredRoleId: null,
    updatedAt: Date.now(),
    updatedBy: '846092624632090635',
    ...overrides,
  }
}

/** The behaviour every ServerSettingsStore must have (file on one node, Redis on several). */
export function serverSettingsStoreContract(name: string, factory: SettingsStoreFactory) {
  describe(`server settings store contract: ${name}`, () => {
    let sut: SettingsStoreUnderTest
    beforeEach(async () => {
      sut = await factory.create()
    })
    afterEach(async () => {
      await sut.dispose()
    })

    it('has no settings for a server until they are saved', async () => {
      const g = guildId()
      expect(await sut.store.get(g)).toBeNull()
      expect((await sut.store.getMany([g])).size).toBe(0)
    })

    it('saves a server’s settings whole, the last save winning, seen through every handle', async () => {
      const g = guildId()
      const first = storedSettings(g, { roomsEnabled: false, maxOpenRooms: 3 })
      await sut.store.save(first)
      expect(await sut.store.get(g)).toEqual(first)
      const other = await sut.other()
      expect(await other.get(g)).toEqual(first)
      const second = storedSettings(g, {
        categoryName: 'Cube drafts',
        requiredRoleId: '842831129198596098',
        updatedAt: first.updatedAt + 1,
      })
      await other.save(second)
      expect(await sut.store.get(g)).toEqual(second)
    })

    it('reads several servers at once, leaving out those without settings', async () => {
      const [a, b, c] = [guildId(), guildId(), guildId()]
      await sut.store.save(storedSettings(a, { maxOpenRooms: 1 }))
      await sut.store.save(storedSettings(c, { maxOpenRooms: 3 }))
      const found = await sut.store.getMany([a, b, c])
      expect([...found.keys()].sort()).toEqual([a, c].sort())
      expect(found.get(a)?.maxOpenRooms).toBe(1)
      expect(found.get(c)?.maxOpenRooms).toBe(3)
      expect((await sut.store.getMany([])).size).toBe(0)
    })

    it('keeps every server’s settings across a restart', async () => {
      const saved = [guildId(), guildId()].map((g, i) =>
        storedSettings(g, { maxOpenRooms: 10 + i, roomsEnabled: i === 0 }),
      )
      await Promise.all(saved.map((s) => sut.store.save(s)))
      const reopened = await sut.reopen()
      for (const s of saved) expect(await reopened.get(s.guildId)).toEqual(s)
    })

    it('refuses settings outside the contract (nothing is stored)', async () => {
      const g = guildId()
      await expect(sut.store.save(storedSettings(g, { maxOpenRooms: 0 }))).rejects.toThrow()
      await expect(sut.store.save(storedSettings(g, { categoryName: '' }))).rejects.toThrow()
      expect(await sut.store.get(g)).toBeNull()
    })
  })
}
