import type { Logger } from 'pino'
import type { GuildChange, GuildFeed } from '../../server/ports'

/** What the app knows of one guild. */
export interface GuildInfo {
  id: string
  /** As the gateway last named it ('' until it did). */
  name: string
  /** One of the operator's pool (DISCORD_GUILD_ID / DISCORD_GUILD_IDS). */
  inPool: boolean
  /**
   * `available`: the bot is in it; `unavailable`: a Discord outage (its rooms stay); `removed`:
   * the bot was removed (its rooms closed); `unknown`: the gateway has not said yet.
   */
  state: 'available' | 'unavailable' | 'removed' | 'unknown'
  /** Required permissions the bot lacks there (null: not checked yet, or Discord did not answer). */
  missingPermissions: string[] | null
  /**
   * The setup checks of the server that fail (`guild`: the bot is not in it, `guild-permissions`,
   * `category-permissions`); null: not checked yet.
   */
  failingChecks: string[] | null
}

/** What checking a server found (null: Discord did not answer). */
export interface GuildCheck {
  missingPermissions: string[]
  failingChecks: string[]
}

export interface GuildRegistryOptions {
  /** The pool (DISCORD_GUILD_ID first, then DISCORD_GUILD_IDS). */
  pool: readonly string[]
  feed: GuildFeed
  /**
   * Checks the bot's permissions in a guild (the setup checks): the required ones it lacks, or
   * null when Discord did not answer.
   */
  check: (guildId: string) => Promise<GuildCheck | null>
  /** The bot was removed from a guild: close its rooms. */
  onRemoved: (guildId: string) => Promise<unknown>
  /**
   * Whether guilds outside the pool are checked (and so may be offered): community servers on
   * (ROOMS_COMMUNITY). Off, they are only listed. @defaultValue false
   */
  checkOthers?: boolean
  logger: Logger
}

/**
 * The guilds the bot is in and whether each may take rooms: one writer of guild state, fed by the
 * gateway's guild changes. A guild the bot joins (or returns to) is checked and, when its
 * permissions hold, offered; an outage touches nothing but new rooms; a removal closes the guild's
 * rooms (and only those).
 */
export class GuildRegistry {
  readonly #o: GuildRegistryOptions
  readonly #guilds = new Map<string, GuildInfo>()
  readonly #listeners = new Set<(guild: GuildInfo) => void>()
  #unsubscribe: (() => void) | null = null
  /** The latest handling of each guild's change, in order. */
  readonly #pending = new Map<string, Promise<void>>()

  constructor(options: GuildRegistryOptions) {
    this.#o = options
    for (const id of options.pool) {
      this.#guilds.set(id, {
        id,
        name: '',
        inPool: true,
        state: 'unknown',
        missingPermissions: null,
        failingChecks: null,
      })
    }
  }

  /** Takes the feed's guilds and follows its changes. */
  start(): void {
    if (this.#unsubscribe) return
    this.#unsubscribe = this.#o.feed.onGuild((change) => {
      void this.apply(change)
    })
    for (const guild of this.#o.feed.guilds()) {
      this.#update(guild.id, {
        name: guild.name,
        state: guild.available ? 'available' : 'unavailable',
      })
    }
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }

  /** Handles one guild change (in order per guild); resolves once handled. */
  apply(change: GuildChange): Promise<void> {
    const before = this.#pending.get(change.guildId) ?? Promise.resolve()
    const next = before
      .then(() => this.#handle(change))
      .catch((error: unknown) => {
        this.#o.logger.warn({ err: error, change }, 'handling a guild change failed')
      })
    this.#pending.set(change.guildId, next)
    return next
  }

  /** Resolves once every change received so far is handled. */
  async idle(): Promise<void> {
    await Promise.all(this.#pending.values())
  }

  async #handle(change: GuildChange): Promise<void> {
    const { logger } = this.#o
    switch (change.type) {
      case 'guild.available': {
        const known = this.#guilds.get(change.guildId)
        // Joined, or added back after a removal: checked before it takes rooms. Back from an
        // outage, or already checked (the start-up check of the pool): nothing changed.
        const returning = known?.state === 'unavailable'
        const unchecked = known?.state === 'removed' || (known?.missingPermissions ?? null) === null
        this.#update(change.guildId, { name: change.name, state: 'available' })
        const inPool = this.#guilds.get(change.guildId)?.inPool ?? false
        if (!returning && unchecked && (inPool || this.#o.checkOthers === true)) {
          await this.recheck(change.guildId)
        }
        logger.info(
          {
            guildId: change.guildId,
            returning,
            missing: this.get(change.guildId)?.missingPermissions,
          },
          'guild available',
        )
        return
      }
      case 'guild.unavailable':
        this.#update(change.guildId, { state: 'unavailable' })
        logger.warn(
          { guildId: change.guildId },
          'guild unavailable (Discord outage): its rooms stay',
        )
        return
      case 'guild.removed':
        this.#update(change.guildId, {
          state: 'removed',
          missingPermissions: null,
          failingChecks: null,
        })
        logger.warn({ guildId: change.guildId }, 'the bot was removed from a guild')
        await this.#o.onRemoved(change.guildId)
        return
    }
  }

  /** Checks the bot's permissions in the guild again (start-up, and when it joins). */
  async recheck(guildId: string): Promise<void> {
    this.setChecked(guildId, await this.#o.check(guildId).catch(() => null))
  }

  /** Records what a check found (the start-up check of the pool, or recheck). */
  setChecked(guildId: string, check: GuildCheck | null): void {
    this.#update(guildId, {
      missingPermissions: check?.missingPermissions ?? null,
      failingChecks: check?.failingChecks ?? null,
    })
  }

  get(guildId: string): GuildInfo | undefined {
    return this.#guilds.get(guildId)
  }

  /** Every guild known: the pool's in pool order, then those the gateway reported, by id. */
  list(): GuildInfo[] {
    const pool = this.#o.pool.flatMap((id) => this.#guilds.get(id) ?? [])
    const others = [...this.#guilds.values()]
      .filter((g) => !g.inPool)
      .sort((a, b) => a.id.length - b.id.length || a.id.localeCompare(b.id))
    return [...pool, ...others]
  }

  /**
   * Whether new rooms may go in the guild: the bot is in it (or the gateway has not said
   * otherwise yet), no outage, and its permissions hold (a pool of one is always tried, as
   * before pools: Discord's answer then says what is wrong).
   */
  placeable(guildId: string): boolean {
    const guild = this.#guilds.get(guildId)
    if (!guild || guild.state === 'removed' || guild.state === 'unavailable') return false
    if (guild.inPool && this.#o.pool.length === 1) return true
    return (guild.failingChecks?.length ?? 0) === 0 && (guild.missingPermissions?.length ?? 0) === 0
  }

  /** Whether the guild's channels can be read now (reconciliation): not removed, no outage. */
  reachable(guildId: string): boolean {
    const state = this.#guilds.get(guildId)?.state
    return state !== 'removed' && state !== 'unavailable'
  }

  /**
   * The guilds that may take rooms and are offered beside the pool (community servers): the bot
   * is in them, they were checked and the bot holds what rooms need.
   */
  offered(): GuildInfo[] {
    return this.list().filter(
      (g) =>
        g.state === 'available' &&
        g.failingChecks !== null &&
        g.failingChecks.length === 0 &&
        g.missingPermissions?.length === 0,
    )
  }

  /** `listener(guild)` after a guild's state changed. Returns the unsubscribe. */
  onChange(listener: (guild: GuildInfo) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #update(guildId: string, patch: Partial<Omit<GuildInfo, 'id' | 'inPool'>>): void {
    const before = this.#guilds.get(guildId) ?? {
      id: guildId,
      name: '',
      inPool: false,
      state: 'unknown' as const,
      missingPermissions: null,
      failingChecks: null,
    }
    const after = { ...before, ...patch }
    this.#guilds.set(guildId, after)
    for (const listener of this.#listeners) {
      try {
        listener(after)
      } catch {
        // One listener's failure must not starve the others.
      }
    }
  }
}
