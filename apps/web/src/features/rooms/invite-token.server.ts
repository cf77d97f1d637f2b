import { createHmac } from 'node:crypto'
import { INVITE_TTL_MS } from '@repo/discord-integration/contracts'
import { errors, jwtVerify, SignJWT } from 'jose'
import { z } from 'zod'
import { AppError, isAppError } from '../../server/app-error'

const ISSUER = 'table-voice'
/** Invite links seat a player; watch links make a spectator. Neither passes for the other. */
const KINDS = {
  invite: { audience: 'room-invite', keyLabel: 'room-invite-v1' },
  watch: { audience: 'room-watch', keyLabel: 'room-watch-v1' },
} as const
export type LinkKind = keyof typeof KINDS

const InviteClaimsSchema = z.object({
  room: z.string().min(1),
  /** The room's invite version when the link was made; rotation bumps it. */
  ver: z.number().int().nonnegative(),
})

/** What a verified invite link says. */
export interface InviteClaims {
  roomId: string
  version: number
  expiresAt: number
}

/**
 * Signs and verifies room invite links (and, with `kind: 'watch'`, watch links): HS256 JWTs
 * bound to one room and one link version, valid for 24 hours. The key is derived from the
 * session secret with a distinct label per kind, and the audience differs too, so a session
 * cookie can never pass as a link, nor an invite as a watch link or the other way round.
 */
export class InviteTokens {
  readonly #key: Uint8Array
  readonly #now: () => number
  readonly #ttlMs: number
  readonly #audience: string
  readonly #options: { secret: string; now: () => number; ttlMs?: number; kind?: LinkKind }

  constructor(options: { secret: string; now: () => number; ttlMs?: number; kind?: LinkKind }) {
    this.#options = options
    const kind = KINDS[options.kind ?? 'invite']
    this.#key = deriveKey(options.secret, kind.keyLabel)
    this.#audience = kind.audience
    this.#now = options.now
    this.#ttlMs = options.ttlMs ?? INVITE_TTL_MS
  }

  /** Tokens of another kind of link, from the same secret and clock. */
  forKind(kind: LinkKind): InviteTokens {
    return new InviteTokens({ ...this.#options, kind })
  }

  /** Signs an invite for `roomId` at `version`, issued now. */
  async sign(roomId: string, version: number): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(this.#now() / 1000)
    const expiresAt = (issuedAt + Math.floor(this.#ttlMs / 1000)) * 1000
    const token = await new SignJWT({ room: roomId, ver: version })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(this.#audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt / 1000)
      .sign(this.#key)
    return { token, expiresAt }
  }

  /**
   * Verifies signature, algorithm, audience, expiry and the room binding.
   * @throws AppError TOKEN_EXPIRED (expired) or TOKEN_INVALID (anything else)
   */
  async verify(token: string, roomId: string): Promise<InviteClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: this.#audience,
        currentDate: new Date(this.#now()),
      })
      const claims = InviteClaimsSchema.parse(payload)
      if (claims.room !== roomId || payload.exp === undefined) throw new AppError('TOKEN_INVALID')
      return { roomId: claims.room, version: claims.ver, expiresAt: payload.exp * 1000 }
    } catch (error) {
      if (isAppError(error)) throw error
      if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED', { cause: error })
      throw new AppError('TOKEN_INVALID', { cause: error })
    }
  }
}

function deriveKey(secret: string, label: string): Uint8Array {
  // HMAC-SHA256(secret, label): one secret in the config, separate keys per purpose.
  return new Uint8Array(createHmac('sha256', secret).update(label).digest())
}
