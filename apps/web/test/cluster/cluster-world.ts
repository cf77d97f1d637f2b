import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  DEFAULT_WORLD,
  type Emulator,
  emulatorEnv,
  startEmulator,
  type WorldSeed,
} from '@repo/discord-emulator'
import { type GatewayWorker, startGatewayWorker } from '@repo/discord-gateway/testing'
import {
  freePort,
  type ManagedProcess,
  type RedisServer,
  spawnProcess,
  startRedisServer,
  stopAll,
  waitUntil,
} from '@repo/process-harness'
import { Redis } from 'ioredis'
import { RedisRoomStore } from '../../src/features/rooms/redis-room-store.server'
import { type RoomRecord, RoomRecordSchema } from '../../src/features/rooms/room-store'
import { signInOverHttp } from '../glue/sessions'

/**
 * Several web nodes as real processes for the failover tests: the production build
 * (`apps/web/.output`, started as `pnpm start` does) on free loopback ports, a redis-server of the
 * test's own, the Discord emulator in the test process, and `discord-gateway-worker` processes.
 * Rooms are seeded into the Redis room store before the nodes start, one per voice channel of a
 * category of the seeded world, each owned by a user who only watches it.
 */

const WEB_DIR = fileURLToPath(new URL('../../', import.meta.url))
const ROOT = join(WEB_DIR, '..', '..')
export const SERVER_ENTRY = join(WEB_DIR, '.output', 'server', 'index.mjs')

/** The newest modification time under `dir` (source files only). */
function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) latest = Math.max(latest, newest(path))
    else if (/\.(ts|tsx|mjs|css|json)$/.test(entry.name) && !entry.name.endsWith('.gen.ts'))
      latest = Math.max(latest, statSync(path).mtimeMs)
  }
  return latest
}

/**
 * Fails (never skips) unless the production build exists and is newer than every source it is
 * built from: these tests run the build, and an old one would test old code. `pnpm test` builds
 * first; by hand: `npx -y pnpm@10.34.9 --filter web build`.
 */
export function requireFreshBuild(): void {
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(
      `no production build at ${SERVER_ENTRY}: run \`npx -y pnpm@10.34.9 --filter web build\` first`,
    )
  }
  const built = statSync(SERVER_ENTRY).mtimeMs
  const sources = [
    join(WEB_DIR, 'src'),
    join(WEB_DIR, 'server'),
    ...readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'src')),
  ].filter((dir) => existsSync(dir))
  const latest = Math.max(...sources.map(newest))
  if (latest > built) {
    throw new Error(
      'the production build is older than the sources: run `npx -y pnpm@10.34.9 --filter web build` first',
    )
  }
}

/** A seeded room: its channel, the user who owns it and its other players. */
export interface SeededRoom {
  readonly roomId: string
  readonly channelId: string
  readonly ownerId: string
  readonly ownerName: string
  readonly guests: readonly { readonly userId: string; readonly username: string }[]
}

/** What a web node's GET /api/health answers (the parts the tests read). */
export interface NodeHealth {
  status: 'ok' | 'degraded' | 'down'
  layout: 'single' | 'cluster'
  gateway: {
    health: 'ok' | 'degraded'
    reasons: string[]
    leader: { holderId: string; token: number } | null
    fencingToken: number | null
    isLeader: boolean
    lag: { entries: number; ms: number }
    lastHandover: {
      holderId: string
      token: number
      at: number
      durationMs: number | null
      mode: 'resumed' | 'identified' | null
    } | null
    candidate: {
      stepDowns: number
      fenceRefusals: number
      state: string
      lastStepDown: { at: number; reason: string } | null
    } | null
  }
}

/** A web node (the production server) by pid. */
export interface WebNode {
  readonly name: string
  readonly process: ManagedProcess
  readonly port: number
  /** `http://127.0.0.1:port` (its PUBLIC_URL). */
  readonly origin: string
  /** `ws://127.0.0.1:port/api/ws` */
  readonly wsUrl: string
  /** GET /api/health (from this machine, so no token is needed), or null when it does not answer. */
  health(timeoutMs?: number): Promise<NodeHealth | null>
}

export interface ClusterWorld {
  readonly emu: Emulator
  readonly redis: RedisServer
  readonly prefix: string
  readonly rooms: readonly SeededRoom[]
  /** Users the voice traffic moves around (members of the guild, in no room). */
  readonly users: readonly string[]
  /** The rooms' voice channels (the traffic's channels). */
  readonly channels: readonly string[]
  readonly leaseMs: number
  /** Starts a web node; resolves once its /api/health/ready answers 200. */
  startNode(name: string, env?: Record<string, string>): Promise<WebNode>
  startWorker(name: string): Promise<GatewayWorker>
  /** The Cookie header of `userId`'s session (sealed with the nodes' SESSION_SECRET). */
  cookie(userId: string): Promise<string>
  /** The nodes' secrets (to check none reaches a browser). */
  readonly secrets: readonly string[]
  close(): Promise<void>
}

/** Snowflakes of the seeded world, far from the default world's. */
let nextId = 1_400_000_000_000_000_000n
const snowflake = () => String(nextId++)

function seedWorld(roomCount: number, trafficUsers: number, guestsPerRoom: number) {
  const categoryId = snowflake()
  const users: WorldSeed['users'] = [...DEFAULT_WORLD.users]
  const channels: WorldSeed['channels'] = [
    ...DEFAULT_WORLD.channels,
    { id: categoryId, name: 'Table Voice 1', type: 4, position: 10 },
  ]
  const rooms: SeededRoom[] = []
  for (let r = 0; r < roomCount; r++) {
    const channelId = snowflake()
    channels.push({ id: channelId, name: `room-${r}`, type: 2, parentId: categoryId, position: r })
    const ownerId = snowflake()
    const ownerName = `owner${r}`
    users.push({ id: ownerId, username: ownerName, member: true })
    const guests = Array.from({ length: guestsPerRoom }, (_, g) => ({
      userId: snowflake(),
      username: `guest${r}x${g}`,
    }))
    for (const guest of guests) {
      users.push({ id: guest.userId, username: guest.username, member: true })
    }
    rooms.push({
      roomId: `cluster_room_${String(r).padStart(4, '0')}`,
      channelId,
      ownerId,
      ownerName,
      guests,
    })
  }
  const traffic: string[] = []
  for (let u = 0; u < trafficUsers; u++) {
    const id = snowflake()
    users.push({ id, username: `player${u}`, member: true })
    traffic.push(id)
  }
  // Half of the players start in voice, so the first GUILD_CREATE carries some.
  const voiceStates = traffic
    .filter((_, i) => i % 2 === 0)
    .map((userId, i) => ({
      userId,
      channelId: rooms[i % rooms.length]?.channelId as string,
      selfMute: false,
    }))
  return {
    seed: { ...DEFAULT_WORLD, users, channels, voiceStates } as WorldSeed,
    categoryId,
    rooms,
    traffic,
  }
}

function roomRecord(room: SeededRoom, guildId: string, categoryId: string): RoomRecord {
  const now = Date.now()
  // The schema fills in what a room starts with (no spectators, unlocked, no code...).
  return RoomRecordSchema.parse({
    id: room.roomId,
    name: `Cluster ${room.roomId}`,
    guildId,
    channelId: room.channelId,
    categoryId,
    ownerId: room.ownerId,
    players: [{ userId: room.ownerId, username: room.ownerName }, ...room.guests].map(
      ({ userId, username }) => ({
        userId,
        username,
        globalName: null,
        avatar: null,
        joinedAt: now,
      }),
    ),
    status: 'open',
    createdAt: now,
    closesAt: null,
    inviteVersion: 0,
    inviteExpiresAt: now + 24 * 3600 * 1000,
    inviteToken: 'cluster-test-invite',
    lastActivityAt: now,
  })
}

/**
 * Starts Redis, the emulator (HELLO every 3 s, sessions resumable for 60 s) and seeds `rooms`
 * rooms (with `guests` players besides the owner) and `users` traffic players. Nothing runs
 * until `startNode` / `startWorker`.
 */
export async function clusterWorld(
  options: { rooms?: number; users?: number; guests?: number; leaseMs?: number } = {},
): Promise<ClusterWorld> {
  requireFreshBuild()
  const leaseMs = options.leaseMs ?? 1_500
  const world = seedWorld(options.rooms ?? 4, options.users ?? 8, options.guests ?? 0)
  const emu = await startEmulator({
    port: 0,
    quiet: true,
    world: world.seed,
    heartbeatIntervalMs: 3_000,
    resumeWindowMs: 60_000,
    identifyIntervalMs: 100,
  })
  const redis = await startRedisServer()
  const prefix = 'tv:'
  const secret = randomBytes(32).toString('hex')
  const dataDir = await mkdtemp(join(tmpdir(), 'tv-cluster-'))
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  const store = new RedisRoomStore(admin, prefix)
  await store.addCategory(world.categoryId, emu.guildId)
  for (const room of world.rooms)
    await store.insert(roomRecord(room, emu.guildId, world.categoryId))
  await store.close()
  admin.disconnect()

  const started: WebNode[] = []
  const startNode = async (name: string, env: Record<string, string> = {}): Promise<WebNode> => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    // As `pnpm start` with the emulator does: the node's OAuth redirect is registered.
    const { redirectUris } = emu.control.state().application
    emu.control.setApplication({ redirectUris: [...redirectUris, `${origin}/auth/callback`] })
    const child = spawnProcess(
      process.execPath,
      ['--experimental-async-context-frame', SERVER_ENTRY],
      {
        name,
        cwd: WEB_DIR,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          PUBLIC_URL: origin,
          SESSION_SECRET: secret,
          DATA_DIR: join(dataDir, name),
          ...emulatorEnv(emu),
          REDIS_URL: redis.url,
          REDIS_PREFIX: prefix,
          GATEWAY_LEASE_MS: String(leaseMs),
          LEADER_LEASE_MS: String(leaseMs),
          GATEWAY_HOLDER_ID: name,
          LOG_LEVEL: process.env.CLUSTER_TEST_LOG ?? 'warn',
          ...env,
        },
      },
    )
    const node: WebNode = {
      name,
      process: child,
      port,
      origin,
      wsUrl: `ws://127.0.0.1:${port}/api/ws`,
      async health(timeoutMs = 1_000) {
        try {
          const response = await fetch(`${origin}/api/health`, {
            signal: AbortSignal.timeout(timeoutMs),
          })
          return (await response.json()) as NodeHealth
        } catch {
          return null
        }
      },
    }
    await waitUntil(
      async () => {
        if (!child.alive) throw new Error(`${name} exited\n${child.tail()}`)
        const response = await fetch(`${origin}/api/health/ready`, {
          signal: AbortSignal.timeout(1_000),
        }).catch(() => null)
        return response?.status === 200
      },
      30_000,
      `${name} to be ready`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${child.tail()}`)
    })
    started.push(node)
    return node
  }

  return {
    emu,
    redis,
    prefix,
    rooms: world.rooms,
    users: world.traffic,
    channels: world.rooms.map((r) => r.channelId),
    leaseMs,
    secrets: [secret, emu.botToken, emu.clientSecret],
    startNode,
    startWorker: (name) =>
      startGatewayWorker({ name, emulator: emu, redisUrl: redis.url, prefix, leaseMs }),
    async cookie(userId) {
      // The real sign-in, on a node that is up: the session lives in Redis, every node reads it.
      const node = started.find((n) => n.process.alive)
      if (!node) throw new Error('start a node before signing anyone in')
      return signInOverHttp(node.origin, userId)
    },
    async close() {
      await stopAll(3_000)
      await redis.stop()
      await emu.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** The web node that leads the gateway (by its health), or null. */
export async function leaderOf(nodes: readonly WebNode[]): Promise<WebNode | null> {
  const healths = await Promise.all(nodes.map((n) => (n.process.alive ? n.health() : null)))
  const leaders = nodes.filter((_, i) => healths[i]?.gateway.isLeader)
  return leaders.length === 1 ? (leaders[0] as WebNode) : null
}
