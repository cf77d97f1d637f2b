/**
 * The real server arm: the production build of apps/web (`node .output/server/index.mjs`), with
 * its own gateway client connected to the bench's emulator. Bench rooms are seeded into the app's
 * own file store (DATA_DIR/rooms.json, the format of file-room-store.server.ts) before start, one
 * per emulator voice channel with its four players, so the measured path is the app's unchanged:
 * gateway dispatch -> voice feed -> voice router -> event bus -> /api/ws. Session cookies are
 * minted the way auth-service.server.ts seals them (iron-session, SESSION_SECRET), which is what
 * the upgrade hook verifies for every socket.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sleep } from '../lib/clock.mjs'
import { importFromWeb, WEB_DIR } from '../lib/resolve.mjs'

const { sealData } = await importFromWeb('iron-session')

export const SERVER_ENTRY = path.join(WEB_DIR, '.output', 'server', 'index.mjs')
const SESSION_COOKIE = 'tv_session'
const SESSION_TTL_S = 30 * 24 * 60 * 60
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

/** Seals a session cookie for a bench user, as the app's AuthService does after sign-in. */
export async function mintCookie(secret, user) {
  const sealed = await sealData(
    {
      v: 1,
      user: { userId: user.userId, username: user.username, globalName: null, avatar: null },
      accessToken: `bench-${user.userId}`,
      refreshToken: `bench-${user.userId}`,
      expiresAt: Date.now() + 7 * 24 * 3600 * 1000,
    },
    { password: secret, ttl: SESSION_TTL_S },
  )
  return `${SESSION_COOKIE}=${encodeURIComponent(sealed)}`
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
  const records = rooms.map((r) => ({
    id: r.roomId,
    name: `Bench ${r.roomId}`,
    guildId,
    channelId: r.channelId,
    categoryId,
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
    lastActivityAt: now + ACTIVITY_AHEAD_MS,
  }))
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
