import { AppError } from '../../server/app-error'
import type { DiscordRoomsPort } from './discord-rooms.server'
import type { RoomStore } from './room-store'

/**
 * Name prefix of the categories that hold the room channels (the Nth is `${prefix} N`). The
 * reconciler only touches channels under categories with this name; the setup checks
 * (src/server/setup-checks.server.ts) look at the bot's permissions on them.
 */
export const ROOM_CATEGORY_PREFIX = 'Table Voice rooms'

export interface CategoryAllocatorOptions {
  store: RoomStore
  discord: Pick<DiscordRoomsPort, 'createCategory'>
  /** Room channels per category (Discord allows 50). */
  channelsPerCategory: number
  /** Channels in the guild, ours and others (Discord allows 500). */
  guildChannelLimit: number
  /** Name prefix of the categories we create; the Nth is named `${prefix} N`. */
  categoryPrefix: string
}

/**
 * Picks the Discord category a new room channel goes in: the first of ours with a free place,
 * else a new one. Answers NO_CAPACITY when the guild has no room left for the channel (and the
 * category it would need). Callers hold the guild-wide channel lock, so two creations never
 * both make a category.
 */
export class CategoryAllocator {
  readonly #o: CategoryAllocatorOptions

  constructor(options: CategoryAllocatorOptions) {
    this.#o = options
  }

  /** The category id for one more room channel. */
  async pick(): Promise<string> {
    const categories = await this.#o.store.listCategories()
    const rooms = await this.#o.store.list()
    const counts = new Map<string, number>(categories.map((id) => [id, 0]))
    for (const room of rooms) {
      if (counts.has(room.categoryId))
        counts.set(room.categoryId, (counts.get(room.categoryId) ?? 0) + 1)
    }
    for (const [id, count] of counts) {
      if (count < this.#o.channelsPerCategory) {
        if (rooms.length + categories.length >= this.#o.guildChannelLimit)
          throw new AppError('NO_CAPACITY')
        return id
      }
    }
    // A new category costs a channel too: we need room for it and the voice channel.
    if (rooms.length + categories.length + 2 > this.#o.guildChannelLimit)
      throw new AppError('NO_CAPACITY')
    const id = await this.#o.discord.createCategory(
      `${this.#o.categoryPrefix} ${categories.length + 1}`,
    )
    await this.#o.store.addCategory(id)
    return id
  }
}
