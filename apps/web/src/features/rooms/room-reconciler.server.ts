import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'
import type { DiscordRoomsPort } from './discord-rooms.server'
import type { KeyedMutex } from './keyed-mutex'
import type { LifecycleRunner } from './lifecycle-runner.server'
import type { RoomStore } from './room-store'

/**
 * The KeyedMutex key of the guild's channels. Creating a room (its category, channel and store
 * insert) and reconciling run under it, so a reconciliation never sees a channel without its
 * room, or a room without its channel, and deletes the wrong thing.
 */
export const GUILD_CHANNELS_LOCK = 'guild:channels'

/** Result of a reconciliation with Discord. */
export interface ReconcileReport {
  deletedChannels: string[]
  closedRooms: string[]
}

export interface RoomReconcilerOptions {
  store: RoomStore
  discord: Pick<DiscordRoomsPort, 'listChannels' | 'deleteChannel'>
  lifecycle: LifecycleRunner
  /** Shared with room creation (GUILD_CHANNELS_LOCK). */
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
 * Brings the store and Discord back in line after downtime: deletes voice channels in our
 * categories that belong to no room, closes rooms whose channel is gone, forgets categories that
 * no longer exist. Only channels under categories we created (stored id and our name prefix)
 * are touched.
 */
export class RoomReconciler {
  readonly #o: RoomReconcilerOptions

  constructor(options: RoomReconcilerOptions) {
    this.#o = options
  }

  reconcile(): Promise<ReconcileReport> {
    if (!this.#o.isLeader()) return Promise.resolve({ deletedChannels: [], closedRooms: [] })
    return this.#o.mutex.run(GUILD_CHANNELS_LOCK, () => this.#reconcile())
  }

  async #reconcile(): Promise<ReconcileReport> {
    const { store, discord } = this.#o
    const report: ReconcileReport = { deletedChannels: [], closedRooms: [] }
    const channels = await discord.listChannels()
    const byId = new Map(channels.map((c) => [c.id, c]))
    const ours = new Set<string>()
    for (const id of await store.listCategories()) {
      const category = byId.get(id)
      if (!category) await store.removeCategory(id)
      else if (category.name.startsWith(this.#o.categoryPrefix)) ours.add(id)
    }
    const rooms = await store.list()
    const roomChannels = new Set(rooms.map((r) => r.channelId))
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
      this.#o.logger.info(report, 'reconciled rooms with discord')
    }
    return report
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
