import { z } from 'zod'

/** The pattern of a session id (a base64url SHA-256, session-keys.server.ts). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

/**
 * A signed-in browser's session, kept on the server (specs/017-discord-gateway-real/data-model.md,
 * "Login session"). The cookie only names it; ending the record ends the session on every node.
 */
export const LoginSessionSchema = z.object({
  v: z.literal(1),
  /** SHA-256 of the cookie's token (session-keys.server.ts): never the token itself. */
  id: z.string().regex(SESSION_ID_PATTERN),
  user: z.object({
    userId: z.string(),
    username: z.string(),
    globalName: z.string().nullable(),
    avatar: z.string().nullable(),
  }),
  /** The Discord tokens ({@link DiscordTokens} as JSON), encrypted (SessionKeys.seal). */
  tokens: z.string(),
  createdAt: z.number(),
  /** Last use, recorded at most once per {@link SESSION_TOUCH_MS}. */
  lastSeenAt: z.number(),
  /** `lastSeenAt` + {@link SESSION_IDLE_MS}: the record is gone after this. */
  expiresAt: z.number(),
})
export type LoginSession = z.infer<typeof LoginSessionSchema>

/** The user's Discord OAuth2 tokens, as the encrypted `tokens` field holds them. */
export const DiscordTokensSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** When the access token expires (epoch ms). */
  expiresAt: z.number(),
})
export type DiscordTokens = z.infer<typeof DiscordTokensSchema>

/** A session ends after 30 days without use. */
export const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000
/** Use is written to the store at most once a day per session (and the cookie renewed then). */
export const SESSION_TOUCH_MS = 24 * 60 * 60 * 1000
/** Sessions one user may hold; signing in once more ends the least recently used. */
export const MAX_SESSIONS_PER_USER = 10

/**
 * Where login sessions live: `FileLoginSessionStore` (one node, DATA_DIR/sessions.json) or
 * `RedisLoginSessionStore` (several nodes). `test/auth/login-session-store-contract.ts` is the
 * behaviour both must have. Every method is atomic against every other, on every node.
 */
export interface LoginSessionStore {
  /** The session, or null when there is none or it expired by `now`. */
  get(id: string, now: number): Promise<LoginSession | null>
  /**
   * Stores a new session. When its user then holds more than `maxPerUser` live sessions, the least
   * recently used ones are ended (announced like {@link end}) and returned.
   */
  create(
    session: LoginSession,
    options: { maxPerUser: number; now: number },
  ): Promise<LoginSession[]>
  /**
   * Reads, decides and writes one session atomically: `fn` gets the live record and returns the next
   * one, or undefined to leave it. Never brings back an ended or expired session. Resolves with the
   * record as stored afterwards, or null when there is none.
   */
  update(
    id: string,
    now: number,
    fn: (session: LoginSession) => LoginSession | undefined,
  ): Promise<LoginSession | null>
  /** Ends the given sessions; resolves with those that existed. Announced to every watcher. */
  end(ids: readonly string[]): Promise<LoginSession[]>
  /** Ends every session of a user; resolves with them. Announced to every watcher. */
  endUser(userId: string): Promise<LoginSession[]>
  /** Which of `ids` are live sessions at `now`. */
  live(ids: readonly string[], now: number): Promise<Set<string>>
  /**
   * Stores that can lose their data while nodes run (Redis restarted empty, flushed): writes back
   * the live sessions `held` gives when the store lost its data since this handle last looked
   * (the first call only notes the store's current life), so that a loss is not taken for the
   * end of every session. Resolves with how many were written (0 when nothing was lost).
   */
  restore?(held: () => readonly LoginSession[], now: number): Promise<number>
  /** Removes the sessions that expired by `now` (a store whose keys expire by themselves has none). */
  sweep(now: number): Promise<number>
  /**
   * Calls `listener` with the ids of sessions ended through any handle on the same data (other
   * nodes included), and with null when such notices may have been lost (a reconnect).
   */
  watch(listener: (ids: string[] | null) => void): () => void
  /** Resolves once the watch is in place (a subscription acknowledged by Redis, say). */
  watching(): Promise<void>
  /** Flushes pending writes and releases what the store opened itself. */
  close(): Promise<void>
}
