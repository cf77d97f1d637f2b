import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'
import type { CategoryAllocator } from './category-allocator.server'
import type { DiscordGuilds } from './discord-rooms.server'
import type { KeyedMutex } from './keyed-mutex'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { RoomStore } from './room-store'

/**
 * The KeyedMutex key of a guild's channels. Creating a room there (its category, channel and
 * store insert) and reconciling the guild run under it, so a reconciliation never sees a channel
 * without its room, or a room without its channel, and deletes the wrong thing.
 */
export function guildChannelsLock(guildId: string): string {
  return `guild:channels:${guildId}`
}

/** Result of a reconciliation with Discord. */
export interface ReconcileReport {
  deletedChannels: string[]
  closedRooms: string[]
  /** Guilds that could not be reconciled (Discord did not answer); the others were. */
  failedGuilds?: string[]
}

export interface RoomReconcilerOptions {
  store: RoomStore
  discord: DiscordGuilds
  /** Told how many channels of each guild are not ours. */
  categories: Pick<CategoryAllocator, 'observed'>
  /** The guilds to reconcile besides those of open rooms (the pool). */
  guilds: () => readonly string[]
  /** Whether the guild can be reconciled now (not removed, not in an outage). @defaultValue always */
  reachable?: (guildId: string) => boolean
  lifecycle: LifecycleRunner
  /** Shared with room creation (guildChannelsLock). */
  mutex: KeyedMutex
  clock: Clock
  logger: Logger
  /** Name prefix of the categories we create. */
  categoryPrefix: string
  /** Whether this process leads the cleanup; only the leader reconciles. */
  isLeader: () => boolean
  /** Channels in our categories younger than this are spared (see RoomServiceOptions.orphanGraceMs). */
  orphanGraceMs: number
}

/**
 * Brings the store and Discord back in line after downtime, guild by guild: deletes voice channels
 * in our categories that belong to no room, closes rooms whose channel is gone, forgets categories
 * that no longer exist. Only channels under categories we created (stored id and our name prefix)
 * are touched. A guild that fails (or is unreachable) leaves the others reconciled.
 */
export class RoomReconciler {
  readonly #o: RoomReconcilerOptions

  constructor(options: RoomReconcilerOptions) {
    this.#o = options
  }

  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { deletedChannels: [], closedRooms: [] }
    if (!this.#o.isLeader()) return report
    const reachable = this.#o.reachable ?? (() => true)
    const rooms = await this.#o.store.list()
    const guilds = [...new Set([...this.#o.guilds(), ...rooms.map((r) => r.guildId)])]
    const failed: unknown[] = []
    for (const guildId of guilds.filter(reachable)) {
      try {
        await this.#o.mutex.run(guildChannelsLock(guildId), () => this.#reconcile(guildId, report))
      } catch (error) {
        this.#o.logger.warn({ err: error, guildId }, 'reconciliation of a guild failed')
        report.failedGuilds = [...(report.failedGuilds ?? []), guildId]
        failed.push(error)
      }
    }
    // Nothing reconciled at all (Discord unreachable): the caller hears of it.
    if (failed.length > 0 && failed.length === guilds.length) throw failed[0]
    return report
  }

  async #reconcile(guildId: string, report: ReconcileReport): Promise<void> {
    const { store } = this.#o
    const discord = this.#o.discord.forGuild(guildId)
    const channels = await discord.listChannels()
    const byId = new Map(channels.map((c) => [c.id, c]))
    const ours = new Set<string>()
    const known = new Set<string>()
    for (const id of await store.listCategories(guildId)) {
      const category = byId.get(id)
      if (!category) await store.removeCategory(id)
      else {
        known.add(id)
        if (category.name.startsWith(this.#o.categoryPrefix)) ours.add(id)
      }
    }
    const rooms = (await store.list()).filter((room) => room.guildId === guildId)
    const roomChannels = new Set(rooms.map((r) => r.channelId))
    this.#o.categories.observed(guildId, {
      otherChannels: channels.filter((c) => !roomChannels.has(c.id) && !known.has(c.id)).length,
      categories: known.size,
    })
    for (const room of rooms) {
      if (!byId.has(room.channelId) && (await this.#o.lifecycle.close(room.id, 'channel_gone'))) {
        report.closedRooms.push(room.id)
      }
    }
    const youngerThan = this.#o.clock.now() - this.#o.orphanGraceMs
    for (const channel of channels) {
      // Another node may have created it and not stored its room yet.
      if (this.#o.orphanGraceMs > 0 && snowflakeTime(channel.id) > youngerThan) continue
      if (channel.parentId && ours.has(channel.parentId) && !roomChannels.has(channel.id)) {
        await discord.deleteChannel(channel.id)
        report.deletedChannels.push(channel.id)
      }
    }
    if (report.deletedChannels.length || report.closedRooms.length) {
      this.#o.logger.info({ guildId, ...report }, 'reconciled rooms with discord')
    }
  }
}

const DISCORD_EPOCH = 1_420_070_400_000n

/** When a snowflake was made (epoch ms). */
function snowflakeTime(id: string): number {
  try {
    return Number((BigInt(id) >> 22n) + DISCORD_EPOCH)
  } catch {
    return 0
  }
}
