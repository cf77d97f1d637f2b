import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'

/**
 * The cryptography of login sessions, from SESSION_SECRET (node:crypto only, so that the benchmark
 * can seed sessions with it too):
 *
 * - The cookie holds `s1.<token>.<mac>`: 32 random bytes (base64url) and an HMAC-SHA256 of
 *   `s1.<token>` under a key derived from the secret. The MAC lets a forged, foreign or old-format
 *   cookie be refused in microseconds, without a store lookup.
 * - The session's id, under which its record is stored, is the SHA-256 of the token (base64url).
 *   The store never holds the token itself, so a copy of the store (a backup, a Redis dump) signs
 *   nobody in.
 * - The Discord tokens in a record are encrypted with AES-256-GCM under a second derived key, with
 *   the session id as additional data (a record's tokens cannot be moved to another record).
 *
 * Both keys come from HKDF-SHA256 over SESSION_SECRET; changing the secret ends every session.
 * Written by hand on node:crypto because these are three primitives in their standard use, and a
 * library (iron-session) would cost its PBKDF2 derivation (~0.5 ms) on every cookie read.
 */
export class SessionKeys {
  readonly #mac: Buffer
  readonly #enc: Buffer

  constructor(secret: string) {
    this.#mac = derive(secret, 'table-voice login-session cookie mac')
    this.#enc = derive(secret, 'table-voice login-session token encryption')
  }

  /** A new session: the cookie value to hand the browser, and the id its record is stored under. */
  mint(): { cookieValue: string; id: string } {
    const token = randomBytes(32).toString('base64url')
    return { cookieValue: `${COOKIE_FORMAT}.${token}.${this.#sign(token)}`, id: sessionIdOf(token) }
  }

  /**
   * The session id a cookie value names, or null when the value is not a cookie of ours (absent,
   * an iron-session cookie of the earlier format, tampered with, or made with another secret).
   */
  idOf(cookieValue: string | null): string | null {
    if (!cookieValue || cookieValue.length !== COOKIE_LENGTH) return null
    const [format, token, mac] = cookieValue.split('.')
    if (format !== COOKIE_FORMAT || !token || !mac || !B64URL_32.test(token)) return null
    const expected = Buffer.from(this.#sign(token))
    const given = Buffer.from(mac)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
    return sessionIdOf(token)
  }

  /** Encrypts `plain` for the record of session `id`: `v1.<iv>.<ciphertext>.<tag>`, base64url. */
  seal(plain: string, id: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#enc, iv)
    cipher.setAAD(Buffer.from(id))
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return `v1.${iv.toString('base64url')}.${data.toString('base64url')}.${tag.toString('base64url')}`
  }

  /** Decrypts what {@link seal} made for session `id`; null when it was not (or the secret changed). */
  open(sealed: string, id: string): string | null {
    const [version, iv, data, tag] = sealed.split('.')
    if (version !== 'v1' || !iv || data === undefined || !tag) return null
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#enc, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(id))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      const plain = Buffer.concat([
        decipher.update(Buffer.from(data, 'base64url')),
        decipher.final(),
      ])
      return plain.toString('utf8')
    } catch {
      return null
    }
  }

  #sign(token: string): string {
    return createHmac('sha256', this.#mac).update(`${COOKIE_FORMAT}.${token}`).digest('base64url')
  }
}

const COOKIE_FORMAT = 's1'
/** `s1.` + 43 characters of token + `.` + 43 characters of MAC. */
const COOKIE_LENGTH = 3 + 43 + 1 + 43
const B64URL_32 = /^[A-Za-z0-9_-]{43}$/

function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'table-voice', info, 32))
}
