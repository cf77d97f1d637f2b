import type { ProfileUpdatedEvent } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomOps } from './room-ops.server'
import type { RoomStore } from './room-store'
import { updateProfile } from './seat-rules'

/**
 * Keeps the display data stored for players and spectators in step with Discord: on a
 * `profile.updated` feed event, every room where the user sits or watches gets the new name and
 * avatar, and its browsers a room.updated. Every node handles every event (there is no leader to
 * lose one to); the first write wins and the others find nothing to change, so a room is told once.
 * (Pages see the change before that: the presence layer forwards a profile.updated frame.)
 */
export class ProfileSync {
  readonly #store: RoomStore
  readonly #directory: CachedRoomDirectory
  readonly #ops: RoomOps
  readonly #logger: Logger

  constructor(options: {
    store: RoomStore
    directory: CachedRoomDirectory
    ops: RoomOps
    logger: Logger
  }) {
    this.#store = options.store
    this.#directory = options.directory
    this.#ops = options.ops
    this.#logger = options.logger
  }

  /** Writes the new profile into the user's rooms; resolves when every room is done. */
  async apply(event: ProfileUpdatedEvent): Promise<void> {
    const update = updateProfile(event.userId, event.profile)
    await Promise.all(
      this.#directory.roomIdsOfUser(event.userId).map(async (roomId) => {
        try {
          const outcome = await this.#store.mutate(roomId, (room) => {
            const { next, result } = update(room)
            return next
              ? { next, result: { room: next, wrote: true } }
              : { result: { room: result, wrote: false } }
          })
          if (!outcome.room) return
          this.#ops.remember(outcome.room)
          // Only the node that wrote it tells the browsers (the others found it current).
          if (outcome.wrote) this.#ops.publishState(outcome.room)
        } catch (error) {
          this.#logger.warn({ err: error, roomId }, 'updating a player’s profile failed')
        }
      }),
    )
  }
}
