/**
 * Ours on several nodes (scenario (g)): a redis-server of the bench's own, the bench rooms seeded
 * into the app's Redis room store, and three production servers (apps/web/.output) sharing it,
 * each a candidate for the gateway lease (GATEWAY_MODE=in-process). All three have the same
 * PUBLIC_URL, as behind one load balancer, so a browser may connect to any of them.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sleep } from '../lib/clock.mjs'
import { importFromWeb } from '../lib/resolve.mjs'
import { benchRoomRecord, freePort } from './ours.mjs'

const { Redis } = await importFromWeb('ioredis')

export const CLUSTER_PREFIX = 'bench:'

/** A redis-server on a free loopback port (no persistence), pinned to `cpu`. */
export async function startRedis(cpu) {
  const port = await freePort()
  const dir = await mkdtemp(path.join(tmpdir(), 'tv-bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '']
  const proc = spawn('taskset', ['-c', cpu, 'redis-server', ...args, '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  const url = `redis://127.0.0.1:${port}`
  let client = null
  for (let i = 0; !client; i++) {
    if (proc.exitCode !== null) throw new Error('redis-server exited')
    const attempt = new Redis(url, { lazyConnect: true, retryStrategy: () => null })
    attempt.on('error', () => {})
    try {
      await attempt.connect()
      if ((await attempt.ping()) === 'PONG') client = attempt
    } catch {
      attempt.disconnect()
      if (i > 100) throw new Error('redis-server did not answer')
      await sleep(100)
    }
  }
  return {
    url,
    client,
    async stop() {
      client.disconnect()
      proc.kill('SIGKILL')
      await new Promise((resolve) =>
        proc.exitCode !== null ? resolve() : proc.once('exit', resolve),
      )
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Writes one open room per bench room into the Redis room store, in the format of
 * apps/web/src/features/rooms/redis-room-store.server.ts (`${prefix}room:{id}` = the room's JSON,
 * its id in `${prefix}rooms`, the category in `${prefix}categories` and its guild in
 * `${prefix}categories:guild`), as seedRooms() does for the file store.
 */
export async function seedRedisRooms(client, guildId, categoryId, rooms) {
  const now = Date.now()
  const multi = client.multi()
  multi.sadd(`${CLUSTER_PREFIX}categories`, categoryId)
  multi.hset(`${CLUSTER_PREFIX}categories:guild`, categoryId, guildId)
  for (const r of rooms) {
    const record = benchRoomRecord(r, { guildId, categoryId, now, lastActivityAt: now })
    multi.set(`${CLUSTER_PREFIX}room:${r.roomId}`, JSON.stringify(record))
    multi.sadd(`${CLUSTER_PREFIX}rooms`, r.roomId)
  }
  await multi.exec()
}

/**
 * Writes the bench's login sessions (mintSession() records) into the Redis session store, in the
 * format of apps/web/src/features/auth/redis-login-session-store.server.ts
 * (`${prefix}login-session:{id}` = the record's JSON, expiring with it; the id in
 * `${prefix}user-login-sessions:{userId}`), as seedSessions() does for the file store.
 */
export async function seedRedisSessions(client, records) {
  const multi = client.multi()
  for (const record of records) {
    const ttl = Math.max(1, record.expiresAt - Date.now())
    const index = `${CLUSTER_PREFIX}user-login-sessions:${record.user.userId}`
    multi.set(`${CLUSTER_PREFIX}login-session:${record.id}`, JSON.stringify(record), 'PX', ttl)
    multi.sadd(index, record.id)
    multi.pexpire(index, ttl)
  }
  await multi.exec()
}

/** The environment of one cluster node (on top of serverEnv()). */
export function clusterEnv({ name, redisUrl, publicUrl, leaseMs }) {
  return {
    PUBLIC_URL: publicUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: CLUSTER_PREFIX,
    GATEWAY_MODE: 'in-process',
    GATEWAY_LEASE_MS: String(leaseMs),
    LEADER_LEASE_MS: String(leaseMs),
    GATEWAY_HOLDER_ID: name,
  }
}

/** GET /api/health of a node (null when it does not answer). */
export async function nodeHealth(port, timeoutMs = 1000) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    return await res.json()
  } catch {
    return null
  }
}

/** Polls a node until its voice mirror is ready and it has the rooms (and leads, if `lead`). */
export async function waitClusterNode(
  port,
  expectRooms,
  { lead = false, timeoutMs = 60_000, child },
) {
  const deadline = Date.now() + timeoutMs
  let last = null
  while (Date.now() < deadline) {
    if (child && child.proc.exitCode !== null) throw new Error(`node exited:\n${child.tail()}`)
    last = await nodeHealth(port)
    const g = last?.gateway
    if (g?.mirror?.ready && last.rooms >= expectRooms && (!lead || g.isLeader)) return last
    await sleep(200)
  }
  throw new Error(`cluster node not ready after ${timeoutMs} ms: ${JSON.stringify(last)}`)
}

export async function cleanUp(dataDirs) {
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true })
}
