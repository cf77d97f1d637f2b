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
  /** The guild id; NO_CAPACITY when no guild asked for has room. */
  choose(request?: PlacementRequest): Promise<string>
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
 * the whole pool's capacity, NO_CAPACITY.
 */
export class PoolPlacement implements GuildPlacement {
  readonly #o: PoolPlacementOptions

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
    let best: GuildUsage | null = null
    for (const usage of await this.#o.usage(candidates)) {
      if (usage.freeRooms > 0 && (best === null || usage.freeRooms > best.freeRooms)) best = usage
    }
    if (best === null) throw new AppError('NO_CAPACITY')
    return best.guildId
  }
}
