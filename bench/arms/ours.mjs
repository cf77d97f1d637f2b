/**
 * The real server arm: the production build of apps/web (`node .output/server/index.mjs`), with
 * its own gateway client connected to the bench's emulator. Bench rooms are seeded into the app's
 * own file store (DATA_DIR/rooms.json, the format of file-room-store.server.ts) before start, one
 * per emulator voice channel with its four players, so the measured path is the app's unchanged:
 * gateway dispatch -> voice feed -> voice router -> event bus -> /api/ws. Login sessions are
 * seeded the same way into the app's file session store (DATA_DIR/sessions.json), with cookies
 * minted by the app's own SessionKeys (SESSION_SECRET), which is what the upgrade hook checks and
 * looks up for every socket.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { sleep } from '../lib/clock.mjs'
import { WEB_DIR } from '../lib/resolve.mjs'

// The app's own module (node:crypto only, loaded with Node's type stripping), so the cookie and
// the encrypted tokens are exactly what the app makes at sign-in.
const { SessionKeys } = await import(
  pathToFileURL(path.join(WEB_DIR, 'src', 'features', 'auth', 'session-keys.server.ts')).href
)

export const SERVER_ENTRY = path.join(WEB_DIR, '.output', 'server', 'index.mjs')
const SESSION_COOKIE = 'tv_session'
/** A session lives 30 days unused (login-session.ts, SESSION_IDLE_MS). */
const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000
/** How far ahead of start the seeded rooms' last activity lies (see seedRooms). */
const ACTIVITY_AHEAD_MS = 0

export function hasBuild() {
  return existsSync(SERVER_ENTRY)
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** A session secret for this run only. */
export function newSessionSecret() {
  return randomBytes(32).toString('hex')
}

/**
 * Starts a login session for a bench user, as sign-in does (login-sessions.server.ts): the Cookie
 * header naming it, and the record {@link seedSessions} stores.
 */
export function mintSession(secret, user) {
  const keys = new SessionKeys(secret)
  const { cookieValue, id } = keys.mint()
  const now = Date.now()
  const tokens = {
    accessToken: `bench-${user.userId}`,
    refreshToken: `bench-${user.userId}`,
    expiresAt: now + 7 * 24 * 3600 * 1000,
  }
  const record = {
    v: 1,
    id,
    user: { userId: user.userId, username: user.username, globalName: null, avatar: null },
    tokens: keys.seal(JSON.stringify(tokens), id),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + SESSION_IDLE_MS,
  }
  return { cookie: `${SESSION_COOKIE}=${cookieValue}`, record }
}

/** Writes DATA_DIR/sessions.json (the format of file-login-session-store.server.ts). */
export async function seedSessions(dataDir, records) {
  await mkdir(dataDir, { recursive: true })
  await writeFile(
    path.join(dataDir, 'sessions.json'),
    JSON.stringify({ version: 1, sessions: records }),
    { mode: 0o600 },
  )
}

/**
 * A stored room of the bench: `r.players` seated, open, as the app's room store keeps it, in the
 * room's own guild and category (the emulator process's rooms carry them) or the given ones.
 */
export function benchRoomRecord(r, { guildId, categoryId, now, lastActivityAt }) {
  return {
    id: r.roomId,
    name: `Bench ${r.roomId}`,
    guildId: r.guildId ?? guildId,
    channelId: r.channelId,
    categoryId: r.categoryId ?? categoryId,
    ownerId: r.players[0],
    players: r.players.map((userId, i) => ({
      userId,
      username: r.usernames[i],
      globalName: null,
      avatar: null,
      joinedAt: now,
    })),
    status: 'open',
    createdAt: now,
    closesAt: null,
    inviteVersion: 0,
    inviteExpiresAt: now + 24 * 3600 * 1000,
    inviteToken: 'bench-invite-token',
    lastActivityAt,
  }
}

/**
 * Writes DATA_DIR/rooms.json with one open room per bench room.
 *
 * Their last activity is the start time, so RoomService's activity persistence (a room is
 * "touched" on its first voice event after 60 s of quiet) happens inside the measured window,
 * as it would in production. Before FileRoomStore coalesced its writes, that wave of touches
 * ran the server out of heap (scenario (c) of the first full run; bench/repro/room-touch-wave.ts
 * is the regression check).
 */
export async function seedRooms(dataDir, guildId, categoryId, rooms) {
  const now = Date.now()
  const records = rooms.map((r) =>
    benchRoomRecord(r, { guildId, categoryId, now, lastActivityAt: now + ACTIVITY_AHEAD_MS }),
  )
  await mkdir(dataDir, { recursive: true })
  await writeFile(
    path.join(dataDir, 'rooms.json'),
    JSON.stringify({ version: 1, rooms: records, categories: [] }),
  )
}

export async function newDataDir() {
  return mkdtemp(path.join(tmpdir(), 'tv-bench-'))
}

/** The environment the production server needs, pointed at the emulator. */
export function serverEnv({ port, secret, dataDir, emu }) {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SESSION_SECRET: secret,
    DATA_DIR: dataDir,
    // DISCORD_API_URL ... DISCORD_GUILD_ID, from the emulator's emulatorEnv() (emulator-process.ts)
    ...emu.env,
    LOG_LEVEL: 'warn',
  }
}

/** Polls /api/health until the gateway is ready and the rooms are loaded. */
export async function waitHealthy(port, expectRooms, timeoutMs = 60_000, child) {
  const deadline = Date.now() + timeoutMs
  let last = null
  while (Date.now() < deadline) {
    if (child && child.proc.exitCode !== null) throw new Error(`server exited:\n${child.tail()}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`)
      last = await res.json()
      // `gateway` is the feed's status object (older builds: its state string)
      const gateway = typeof last.gateway === 'string' ? last.gateway : last.gateway?.state
      if (gateway === 'ready' && last.rooms >= expectRooms) return last
    } catch {
      // not listening yet
    }
    await sleep(200)
  }
  throw new Error(
    `server not healthy after ${timeoutMs} ms: ${JSON.stringify(last)}\n${child?.tail() ?? ''}`,
  )
}
