import { AppError } from '../../server/app-error'
import type { GuildUsage } from './category-allocator.server'

/** What the create-room flow asks for. */
export interface PlacementRequest {
  /**
   * A guild the player picked (community servers). The placement that serves it checks that the
   * guild may take rooms; the pool placement takes it only when it is a placeable pool guild.
   */
  requestedGuildId?: string
  /** Guilds already found full during this creation (Discord answered 30013). */
  exclude?: ReadonlySet<string>
}

/**
 * Chooses the guild a new room goes in: the seam the create-room flow uses. The pool placement
 * below serves DISCORD_GUILD_ID / DISCORD_GUILD_IDS; community servers wrap it to serve a
 * requested guild (`runtime.placement`).
 */
export interface GuildPlacement {
  /**
   * The guild id; NO_CAPACITY when no guild asked for has room. Every guild returned counts as
   * one room on its way there until `settle(guildId)`, which the caller owes once the room is
   * created or failed.
   */
  choose(request?: PlacementRequest): Promise<string>
  /** The room `choose` placed in `guildId` is stored (or failed): it no longer counts as pending. */
  settle(guildId: string): void
}

export interface PoolPlacementOptions {
  /** The pool (DISCORD_GUILD_ID first, then DISCORD_GUILD_IDS). */
  pool: readonly string[]
  /** How full each guild is. */
  usage(guildIds: readonly string[]): Promise<GuildUsage[]>
  /**
   * Whether a guild may take new rooms now (the bot is in it, it is not in an outage, its
   * permissions hold). @defaultValue every guild
   */
  placeable?: (guildId: string) => boolean
}

/**
 * A room goes to the placeable pool guild with the most rooms still free (ties: pool order); past
 * the whole pool's capacity, NO_CAPACITY. Rooms placed but not yet stored count against their
 * guild, so that creations running at once spread over the pool instead of all taking the guild
 * that looked emptiest when each of them asked.
 */
export class PoolPlacement implements GuildPlacement {
  readonly #o: PoolPlacementOptions
  /** Rooms placed in each guild and not yet settled. */
  readonly #pending = new Map<string, number>()

  constructor(options: PoolPlacementOptions) {
    this.#o = options
  }

  async choose(request: PlacementRequest = {}): Promise<string> {
    const placeable = this.#o.placeable ?? (() => true)
    const candidates = this.#o.pool.filter(
      (id) =>
        placeable(id) &&
        !request.exclude?.has(id) &&
        (request.requestedGuildId === undefined || id === request.requestedGuildId),
    )
    if (request.requestedGuildId !== undefined && candidates.length === 0) {
      // Not a pool guild (or not placeable now): only a community placement serves it.
      throw new AppError(
        this.#o.pool.includes(request.requestedGuildId) ? 'NO_CAPACITY' : 'FORBIDDEN',
      )
    }
    let best: { guildId: string; free: number } | null = null
    for (const usage of await this.#o.usage(candidates)) {
      const free = usage.freeRooms - (this.#pending.get(usage.guildId) ?? 0)
      if (free > 0 && (best === null || free > best.free)) best = { guildId: usage.guildId, free }
    }
    if (best === null) throw new AppError('NO_CAPACITY')
    // Counted before any other choose() resumes: the loop above and this line run in one turn.
    this.#pending.set(best.guildId, (this.#pending.get(best.guildId) ?? 0) + 1)
    return best.guildId
  }

  settle(guildId: string): void {
    const left = (this.#pending.get(guildId) ?? 0) - 1
    if (left > 0) this.#pending.set(guildId, left)
    else this.#pending.delete(guildId)
  }
}
