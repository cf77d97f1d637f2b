import { AppError } from '../../server/app-error'
import type { Clock } from '../../server/clock'
import type { InviteTokens } from './invite-token.server'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomRecord, RoomStore } from './room-store'

/**
 * A room's invite link: a token signed for the room and its `inviteVersion`, stored on the room.
 * Rotating bumps the version, so every older link stops working; an expired link is replaced
 * with a fresh one of the same version.
 */
export class RoomInvites {
  readonly #store: RoomStore
  readonly #tokens: InviteTokens
  readonly #directory: CachedRoomDirectory
  readonly #clock: Clock

  constructor(options: {
    store: RoomStore
    tokens: InviteTokens
    directory: CachedRoomDirectory
    clock: Clock
  }) {
    this.#store = options.store
    this.#tokens = options.tokens
    this.#directory = options.directory
    this.#clock = options.clock
  }

  /** The link of a new room (version 1). */
  first(roomId: string): Promise<{ token: string; expiresAt: number }> {
    return this.#tokens.sign(roomId, 1)
  }

  /** The room an invite points to, once the link is checked (signature, expiry, version). */
  async check(roomId: string, token: string): Promise<RoomRecord> {
    const claims = await this.#tokens.verify(token, roomId)
    const room = await this.#store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    // A rotated link is as dead as an expired one.
    if (claims.version !== room.inviteVersion) throw new AppError('TOKEN_EXPIRED')
    return room
  }

  /** Bumps the room's invite version and stores a link signed for exactly that version. */
  async rotate(roomId: string): Promise<RoomRecord> {
    for (;;) {
      const current = await this.#store.get(roomId)
      if (!current) throw new AppError('ROOM_NOT_FOUND')
      const version = current.inviteVersion + 1
      const invite = await this.#tokens.sign(roomId, version)
      // Another rotation may have won meanwhile: then sign again for the newer version.
      const next = await this.#store.mutate(roomId, (latest) => {
        if (!latest || latest.inviteVersion !== current.inviteVersion) return { result: latest }
        const updated = {
          ...latest,
          inviteVersion: version,
          inviteToken: invite.token,
          inviteExpiresAt: invite.expiresAt,
        }
        return { next: updated, result: updated }
      })
      if (!next) throw new AppError('ROOM_NOT_FOUND')
      if (next.inviteVersion === version && next.inviteToken === invite.token) {
        this.#directory.remember(next)
        return next
      }
    }
  }

  /** The room with a fresh link when its current one has expired. */
  async refreshIfExpired(room: RoomRecord): Promise<RoomRecord> {
    if (room.inviteExpiresAt > this.#clock.now()) return room
    // Same version: a fresh 24 h link that earlier (expired) links don't outlive.
    const invite = await this.#tokens.sign(room.id, room.inviteVersion)
    const next = await this.#store.mutate(room.id, (current) => {
      if (!current) return { result: null }
      const updated = { ...current, inviteToken: invite.token, inviteExpiresAt: invite.expiresAt }
      return { next: updated, result: updated }
    })
    if (!next) throw new AppError('ROOM_NOT_FOUND')
    this.#directory.remember(next)
    return next
  }
}
