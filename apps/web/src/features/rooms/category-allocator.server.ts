import { AppError } from '../../server/app-error'
import type { DiscordGuilds } from './discord-rooms.server'
import type { RoomStore } from './room-store'

/**
 * Name prefix of the categories that hold the room channels (the Nth is `${prefix} N`). The
 * reconciler only touches channels under categories with this name; the setup checks
 * (src/server/setup-checks.server.ts) look at the bot's permissions on them.
 */
export const ROOM_CATEGORY_PREFIX = 'Table Voice rooms'

/** Discord's limits: channels in a guild (of every kind, categories included) and per category. */
export interface ChannelLimits {
  /** Room channels per category (Discord allows 50). */
  channelsPerCategory: number
  /** Channels in the guild, ours and others (Discord allows 500). */
  guildChannelLimit: number
}

/** How full one guild is, from our side (rooms and categories) and Discord's (other channels). */
export interface GuildUsage {
  guildId: string
  rooms: number
  categories: number
  /** Channels in the guild that are not ours, as last seen by reconciliation (0 until then). */
  otherChannels: number
  /** Channels the guild can still take. */
  freeChannels: number
  /** Rooms that still fit (each new category costs a channel too). */
  freeRooms: number
}

/** A guild's usage from its counts and the limits (pure). */
export function guildUsage(
  guildId: string,
  counts: { rooms: number; categories: number; otherChannels: number },
  limits: ChannelLimits,
): GuildUsage {
  const { rooms, categories, otherChannels } = counts
  const freeChannels = Math.max(0, limits.guildChannelLimit - otherChannels - rooms - categories)
  // Places left in our categories first, then new categories (one channel each, then their rooms).
  const inCategories = Math.max(0, categories * limits.channelsPerCategory - rooms)
  const first = Math.min(freeChannels, inCategories)
  const rest = freeChannels - first
  const perCategory = limits.channelsPerCategory + 1
  const freeRooms =
    first +
    Math.floor(rest / perCategory) * limits.channelsPerCategory +
    Math.max(0, (rest % perCategory) - 1)
  return { guildId, rooms, categories, otherChannels, freeChannels, freeRooms }
}

export interface CategoryAllocatorOptions {
  store: RoomStore
  discord: DiscordGuilds
  limits: ChannelLimits
  /** Name prefix of the categories we create; the Nth is named `${prefix} N`. */
  categoryPrefix: string
}

/**
 * Picks the Discord category a new room channel goes in, per guild: the first of ours with a free
 * place, else a new one. Answers NO_CAPACITY when the guild has no room left for the channel (and
 * the category it would need). Callers hold the guild's channel lock (guildChannelsLock), so two
 * creations never both make a category. Also keeps what reconciliation saw of the channels
 * that are not ours, per guild, for the capacity figures.
 */
export class CategoryAllocator {
  readonly #o: CategoryAllocatorOptions
  readonly #otherChannels = new Map<string, number>()
  /** Our categories per guild, as last read from the store (for the synchronous figures). */
  readonly #categoryCounts = new Map<string, number>()

  constructor(options: CategoryAllocatorOptions) {
    this.#o = options
  }

  /**
   * What reconciliation saw in the guild: channels that are neither our rooms nor our categories,
   * and our categories.
   */
  observed(guildId: string, seen: { otherChannels: number; categories: number }): void {
    this.#otherChannels.set(guildId, seen.otherChannels)
    this.#categoryCounts.set(guildId, seen.categories)
  }

  /** Discord refused a channel in the guild as full (30013): count it as full until reconciled. */
  markFull(guildId: string): void {
    this.#otherChannels.set(guildId, this.#o.limits.guildChannelLimit)
  }

  /** How full each guild is (rooms and categories from the store). */
  async usage(guildIds: readonly string[]): Promise<GuildUsage[]> {
    const rooms = await this.#o.store.list()
    const perGuild = new Map<string, number>()
    for (const room of rooms) perGuild.set(room.guildId, (perGuild.get(room.guildId) ?? 0) + 1)
    const categories = await Promise.all(
      guildIds.map((guildId) => this.#o.store.listCategories(guildId)),
    )
    guildIds.forEach((guildId, i) => {
      this.#categoryCounts.set(guildId, categories[i]?.length ?? 0)
    })
    return this.usageNow(guildIds, perGuild)
  }

  /**
   * How full each guild is from what is in memory: `rooms` per guild (the directory) and the
   * categories as last read (health and metrics, answered without I/O).
   */
  usageNow(guildIds: readonly string[], rooms: ReadonlyMap<string, number>): GuildUsage[] {
    return guildIds.map((guildId) =>
      guildUsage(
        guildId,
        {
          rooms: rooms.get(guildId) ?? 0,
          categories: this.#categoryCounts.get(guildId) ?? 0,
          otherChannels: this.#otherChannels.get(guildId) ?? 0,
        },
        this.#o.limits,
      ),
    )
  }

  /** The category id in `guildId` for one more room channel. */
  async pick(guildId: string): Promise<string> {
    const { channelsPerCategory, guildChannelLimit } = this.#o.limits
    const categories = await this.#o.store.listCategories(guildId)
    this.#categoryCounts.set(guildId, categories.length)
    const rooms = (await this.#o.store.list()).filter((room) => room.guildId === guildId)
    const used = rooms.length + categories.length + (this.#otherChannels.get(guildId) ?? 0)
    const counts = new Map<string, number>(categories.map((id) => [id, 0]))
    for (const room of rooms) {
      if (counts.has(room.categoryId))
        counts.set(room.categoryId, (counts.get(room.categoryId) ?? 0) + 1)
    }
    for (const [id, count] of counts) {
      if (count < channelsPerCategory) {
        if (used >= guildChannelLimit) throw new AppError('NO_CAPACITY')
        return id
      }
    }
    // A new category costs a channel too: we need room for it and the voice channel.
    if (used + 2 > guildChannelLimit) throw new AppError('NO_CAPACITY')
    const id = await this.#o.discord
      .forGuild(guildId)
      .createCategory(`${this.#o.categoryPrefix} ${categories.length + 1}`)
    await this.#o.store.addCategory(id, guildId)
    this.#categoryCounts.set(guildId, categories.length + 1)
    return id
  }
}
