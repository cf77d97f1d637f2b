import { randomInt } from 'node:crypto'
import { AppError } from '../../server/app-error'
import type { Clock } from '../../server/clock'
import type { InviteTokens } from './invite-token.server'
import { uniqueRoomCode } from './room-codes'
import type { CachedRoomDirectory } from './room-directory.server'
import type { RoomRecord, RoomStore } from './room-store'

/** A freshly signed link. */
interface Signed {
  token: string
  expiresAt: number
}

/**
 * A room's links: the invite link and the room code (both seat a player, both expire together,
 * rotate together), and the watch link (makes a spectator). Each link is a token signed for the
 * room and a version stored on it: rotating bumps the version, so every older link stops working;
 * an expired link is replaced with a fresh one of the same version (and a fresh code). Every change
 * bumps the room's `linksRev`, which tells the players' pages to fetch the links again.
 */
export class RoomInvites {
  readonly #store: RoomStore
  readonly #tokens: InviteTokens
  readonly #watchTokens: InviteTokens
  readonly #directory: CachedRoomDirectory
  readonly #clock: Clock
  readonly #randomInt: (max: number) => number

  constructor(options: {
    store: RoomStore
    tokens: InviteTokens
    watchTokens: InviteTokens
    directory: CachedRoomDirectory
    clock: Clock
    randomInt?: (max: number) => number
  }) {
    this.#store = options.store
    this.#tokens = options.tokens
    this.#watchTokens = options.watchTokens
    this.#directory = options.directory
    this.#clock = options.clock
    this.#randomInt = options.randomInt ?? ((max) => randomInt(max))
  }

  /** The link and code of a new room (version 1). */
  async first(roomId: string): Promise<Signed & { code: string }> {
    return { ...(await this.#tokens.sign(roomId, 1)), code: this.#newCode() }
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

  /**
   * The open room a typed code belongs to. An unknown code and an expired one are the same
   * refusal (CODE_INVALID): a guesser learns nothing from the difference.
   */
  async checkCode(code: string): Promise<RoomRecord> {
    const roomId = this.#directory.roomForCode(code)
    const room = roomId === null ? null : await this.#store.get(roomId)
    if (!room || room.code !== code || room.inviteExpiresAt <= this.#clock.now()) {
      throw new AppError('CODE_INVALID')
    }
    return room
  }

  /** The room a watch link points to, once checked; a revoked or rotated link is TOKEN_EXPIRED. */
  async checkWatch(roomId: string, token: string): Promise<RoomRecord> {
    const claims = await this.#watchTokens.verify(token, roomId)
    const room = await this.#store.get(roomId)
    if (!room) throw new AppError('ROOM_NOT_FOUND')
    if (room.watchToken === null || claims.version !== room.watchVersion) {
      throw new AppError('TOKEN_EXPIRED')
    }
    return room
  }

  /** A new invite link and code; earlier links and codes stop working. */
  rotate(roomId: string): Promise<RoomRecord> {
    return this.#swap(roomId, async (current) => {
      const version = current.inviteVersion + 1
      const invite = await this.#tokens.sign(roomId, version)
      const code = this.#newCode()
      return (latest) =>
        latest.inviteVersion !== current.inviteVersion
          ? null
          : {
              ...latest,
              inviteVersion: version,
              inviteToken: invite.token,
              inviteExpiresAt: invite.expiresAt,
              code,
              linksRev: latest.linksRev + 1,
            }
    })
  }

  /** A new watch link (the first one, or a rotation: the earlier one stops working). */
  rotateWatch(roomId: string): Promise<RoomRecord> {
    return this.#swap(roomId, async (current) => {
      const version = current.watchVersion + 1
      const watch = await this.#watchTokens.sign(roomId, version)
      return (latest) =>
        latest.watchVersion !== current.watchVersion
          ? null
          : {
              ...latest,
              watchVersion: version,
              watchToken: watch.token,
              watchExpiresAt: watch.expiresAt,
              linksRev: latest.linksRev + 1,
            }
    })
  }

  /** No watch link any more: the current one stops working (spectators watching stay). */
  revokeWatch(roomId: string): Promise<RoomRecord> {
    return this.#swap(
      roomId,
      async () => (latest) =>
        latest.watchToken === null
          ? latest
          : {
              ...latest,
              watchVersion: latest.watchVersion + 1,
              watchToken: null,
              watchExpiresAt: null,
              linksRev: latest.linksRev + 1,
            },
    )
  }

  /**
   * The room with fresh links where they expired (the invite with a new code; the watch link, if
   * any) or where it has no code yet (a room stored before codes). Same versions: a fresh 24 h link
   * that earlier, expired links don't outlive.
   */
  async refreshIfExpired(room: RoomRecord): Promise<RoomRecord> {
    const now = this.#clock.now()
    const invite = room.inviteExpiresAt <= now || room.code === null
    const watch = room.watchToken !== null && (room.watchExpiresAt ?? 0) <= now
    if (!invite && !watch) return room
    const freshInvite = invite ? await this.#tokens.sign(room.id, room.inviteVersion) : null
    const freshWatch = watch ? await this.#watchTokens.sign(room.id, room.watchVersion) : null
    const code = invite ? this.#newCode() : null
    const next = await this.#store.mutate(room.id, (current) => {
      if (!current) return { result: null }
      const updated: RoomRecord = { ...current, linksRev: current.linksRev + 1 }
      if (freshInvite && current.inviteVersion === room.inviteVersion) {
        updated.inviteToken = freshInvite.token
        updated.inviteExpiresAt = freshInvite.expiresAt
        updated.code = code
      }
      if (freshWatch && current.watchVersion === room.watchVersion && current.watchToken !== null) {
        updated.watchToken = freshWatch.token
        updated.watchExpiresAt = freshWatch.expiresAt
      }
      return { next: updated, result: updated }
    })
    if (!next) throw new AppError('ROOM_NOT_FOUND')
    this.#directory.remember(next)
    return next
  }

  /**
   * Signs outside the store's atomic step (signing is async), then writes only if nobody changed
   * the links meanwhile (`decide` answers null: another rotation won, sign again for it).
   */
  async #swap(
    roomId: string,
    prepare: (current: RoomRecord) => Promise<(latest: RoomRecord) => RoomRecord | null>,
  ): Promise<RoomRecord> {
    for (;;) {
      const current = await this.#store.get(roomId)
      if (!current) throw new AppError('ROOM_NOT_FOUND')
      const decide = await prepare(current)
      const outcome = await this.#store.mutate<RoomRecord | 'missing' | 'conflict'>(
        roomId,
        (latest) => {
          if (!latest) return { result: 'missing' as const }
          const next = decide(latest)
          if (next === null) return { result: 'conflict' as const }
          return next === latest ? { result: latest } : { next, result: next }
        },
      )
      if (outcome === 'missing') throw new AppError('ROOM_NOT_FOUND')
      if (outcome === 'conflict') continue
      this.#directory.remember(outcome)
      return outcome
    }
  }

  #newCode(): string {
    return uniqueRoomCode(this.#randomInt, (code) => this.#directory.roomForCode(code) !== null)
  }
}
