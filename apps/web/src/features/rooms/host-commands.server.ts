import type { RoomView } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { SessionUser } from '../../server/ports'
import type { KeyedMutex } from './keyed-mutex'
import type { RoomOps } from './room-ops.server'
import type { RoomStore } from './room-store'
import { freeHeldSeat, setLocked, transferHost } from './seat-rules'

/**
 * The host's controls over the table: lock, hand the room over, free a dropped seat early. Each
 * is decided on the store's latest copy (seat-rules.ts), so a host who lost the room a moment ago
 * (handed over, or their seat expired) is refused (FORBIDDEN) rather than obeyed.
 */
export class HostCommands {
  readonly #store: RoomStore
  readonly #ops: RoomOps
  readonly #mutex: KeyedMutex
  readonly #logger: Logger

  constructor(options: { store: RoomStore; ops: RoomOps; mutex: KeyedMutex; logger: Logger }) {
    this.#store = options.store
    this.#ops = options.ops
    this.#mutex = options.mutex
    this.#logger = options.logger
  }

  /** Locks the room (no new players by invite link or code; the watch link still works) or unlocks it. */
  async setLocked(actor: SessionUser, roomId: string, locked: boolean): Promise<RoomView> {
    await this.#ops.requireHost(actor, roomId)
    const before = await this.#store.get(roomId)
    const room = this.#ops.hostOutcome(
      await this.#store.mutate(roomId, setLocked(actor.userId, locked)),
    )
    if (before?.locked !== room.locked) {
      this.#ops.publishState(room)
      this.#logger.info(
        { roomId, locked, by: actor.userId },
        locked ? 'room locked' : 'room unlocked',
      )
    }
    return this.#ops.view(room, 'host')
  }

  /** Hands the room to another player; the caller stays seated as a player. */
  async transferHost(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    await this.#ops.requireHost(actor, roomId)
    const room = this.#ops.hostOutcome(
      await this.#store.mutate(roomId, transferHost(actor.userId, userId)),
    )
    this.#ops.publishState(room)
    this.#logger.info({ roomId, from: actor.userId, to: userId }, 'host handed over')
    return this.#ops.view(room, 'player')
  }

  /**
   * Frees a dropped player's seat before their grace period ends (INVALID_INPUT for a player who
   * is here: that is a kick). Their channel access goes; the invite link stays, so they can be
   * let back in.
   */
  freeSeat(actor: SessionUser, roomId: string, userId: string): Promise<RoomView> {
    return this.#mutex.run(`user:${userId}`, async () => {
      const before = await this.#ops.requireHost(actor, roomId)
      const room = this.#ops.hostOutcome(
        await this.#store.mutate(roomId, freeHeldSeat(actor.userId, userId)),
      )
      this.#ops.publishState(room)
      await this.#ops.evict(before, userId)
      this.#logger.info({ roomId, userId, by: actor.userId }, 'held seat freed by the host')
      return this.#ops.view(room, 'host')
    })
  }
}
