import type { Logger } from 'pino'
import type { Clock } from '../../server/clock'
import type { RoomEvents } from '../../server/ports'
import type { DiscordGuilds, DiscordRoomsPort } from './discord-rooms.server'
import type { CachedRoomDirectory } from './room-directory.server'
import {
  DEFAULT_TIMING,
  type LifecycleEvent,
  type LifecycleTiming,
  type LifecycleTransition,
  transition,
} from './room-lifecycle'
import type { RoomRecord, RoomStore } from './room-store'

const CLOSE_EVENTS = {
  closed: 'closeRequested',
  channel_gone: 'channelGone',
  guild_removed: 'guildRemoved',
} as const

/** A lifecycle transition as the store applied it, with the room before it. */
export type AppliedTransition = LifecycleTransition & { before: RoomRecord | null }

export interface LifecycleRunnerOptions {
  store: RoomStore
  directory: CachedRoomDirectory
  discord: DiscordGuilds<Pick<DiscordRoomsPort, 'deleteChannel'>>
  events: RoomEvents
  clock: Clock
  logger: Logger
  timing?: LifecycleTiming
}

/**
 * The one writer of a room's lifecycle state (status, closesAt, lastActivityAt): runs an event of
 * room-lifecycle.ts inside `store.mutate`, so the store's latest copy decides and the decision and
 * the write are one atomic step (a store that retries on conflict runs the pure transition again),
 * keeps the directory in step, then performs the effects in order.
 */
export class LifecycleRunner {
  readonly #o: Required<LifecycleRunnerOptions>

  constructor(options: LifecycleRunnerOptions) {
    this.#o = { timing: DEFAULT_TIMING, ...options }
  }

  get timing(): LifecycleTiming {
    return this.#o.timing
  }

  async apply(roomId: string, event: LifecycleEvent): Promise<AppliedTransition> {
    const now = this.#o.clock.now()
    const applied = await this.#o.store.mutate(roomId, (before) => {
      const result = transition(before, event, now, this.#o.timing)
      const persist = result.effects.some((effect) => effect.type === 'persist')
      return { next: persist ? result.room : undefined, result: { before, ...result } }
    })
    if (applied.room) this.#o.directory.remember(applied.room)
    else this.#o.directory.forget(roomId)
    for (const effect of applied.effects) {
      if (effect.type === 'deleteChannel' && applied.before) {
        await this.#o.discord.forGuild(applied.before.guildId).deleteChannel(effect.channelId)
      } else if (effect.type === 'publish') {
        this.#o.events.publish(roomId, effect.frame)
        if (effect.frame.type === 'room.deleted') {
          const { reason } = effect.frame
          const channelId = applied.before?.channelId
          this.#o.logger.info({ roomId, channelId, reason }, 'room closed')
        }
      }
    }
    return applied
  }

  /**
   * Closes a room: removes it from the store, deletes its channel (unless it is gone) and
   * publishes room.deleted. Idempotent: closing an unknown or closed room does nothing.
   * @returns whether this call closed the room
   */
  async close(
    roomId: string,
    reason: 'closed' | 'channel_gone' | 'guild_removed',
  ): Promise<boolean> {
    const applied = await this.apply(roomId, { type: CLOSE_EVENTS[reason] })
    return applied.before !== null && applied.room === null
  }
}
