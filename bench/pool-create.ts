/**
 * Scenario (h), second half: how long it takes to create BENCH_CREATE rooms (1,000 in a full
 * run) across a pool of BENCH_GUILDS servers with the emulator's REST rate limits on (Discord's
 * shape: 10 requests per second per route bucket, 50 per second in all), through the app's real
 * room commands (RoomService.createRoom: the pool placement, a category every 50 rooms, the
 * voice channel with its overwrites, the host added to the server with `guilds.join`).
 *
 * Started by run.mjs as `node --import tsx bench/pool-create.ts` from apps/web, pinned to one core
 * with the emulator in the same process: the work is bound by the rate limits, not by CPU, so
 * this measures what an operator waits for. Every creator is a different signed-in user (the
 * per-host cap does not apply); BENCH_CREATE_CONCURRENCY of them create at once. Prints one JSON
 * line with the totals, the per-room latency percentiles, the rooms per server and the 429s the
 * emulator answered.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../apps/web/src/server/config.server.ts'
import {
  bootRuntime,
  createRuntime,
  shutdownRuntime,
} from '../apps/web/src/server/runtime.server.ts'
import {
  DEFAULT_WORLD,
  emulatorEnv,
  startEmulator,
} from '../packages/discord-emulator/src/index.ts'

const benchEnv = (name: string, fallback: number) =>
  Number(process.env[`BENCH_${name}`] ?? fallback)
const ROOMS = benchEnv('CREATE', 1000)
const GUILDS = benchEnv('GUILDS', 4)
const CONCURRENCY = benchEnv('CREATE_CONCURRENCY', 50)

const emu = await startEmulator({ port: 0, quiet: true, world: DEFAULT_WORLD })
const guildIds = [emu.guildId]
for (let i = 1; i < GUILDS; i++) {
  const owner = emu.control.createUser({ username: `pool_owner_${i}` })
  guildIds.push(emu.control.createGuild({ name: `Bench pool ${i}`, ownerId: owner.id }).id)
}
const dataDir = await mkdtemp(join(tmpdir(), 'bench-pool-'))
const publicUrl = 'http://127.0.0.1:3990'
emu.control.setApplication({ redirectUris: [`${publicUrl}/auth/callback`] })
const runtime = createRuntime(
  parseConfig({
    ...emulatorEnv(emu),
    DISCORD_GUILD_IDS: guildIds.join(','),
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
    SESSION_SECRET: 'b'.repeat(48),
    LOG_LEVEL: 'silent',
  }),
)
await bootRuntime(runtime)
await runtime.feed?.ready(30_000)

const hosts = Array.from({ length: ROOMS }, (_, i) => {
  const username = `creator${i}`
  const { id } = emu.control.createUser({ username })
  const { accessToken } = emu.control.issueAccessToken({
    userId: id,
    scopes: ['identify', 'guilds.join'],
  })
  return { userId: id, username, globalName: null, avatar: null, accessToken }
})

const before = emu.control.stats()
const latencies: number[] = []
const failures = new Map<string, number>()
let next = 0
const t0 = performance.now()
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, ROOMS) }, async () => {
    while (next < hosts.length) {
      const host = hosts[next++]
      if (!host) break
      const t = performance.now()
      try {
        await runtime.rooms.createRoom(host, `Pool room ${host.username}`)
        latencies.push(performance.now() - t)
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'ERROR'
        failures.set(code, (failures.get(code) ?? 0) + 1)
      }
    }
  }),
)
const totalMs = performance.now() - t0
const after = emu.control.stats()
const rooms = await runtime.store.list()
const sorted = [...latencies].sort((a, b) => a - b)
const at = (q: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
const rateLimited = emu.control.restLog().filter((r) => r.status === 429).length

process.stdout.write(
  `${JSON.stringify({
    rooms: ROOMS,
    guilds: GUILDS,
    concurrency: CONCURRENCY,
    created: latencies.length,
    failures: Object.fromEntries(failures),
    totalMs: Math.round(totalMs),
    roomsPerSecond: Math.round((latencies.length / totalMs) * 1000 * 10) / 10,
    latencyMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted.at(-1) ?? 0) },
    perGuild: guildIds.map((g) => rooms.filter((r) => r.guildId === g).length),
    restRequests: after.restRequests - before.restRequests,
    rateLimited,
    rateLimits: { perRoutePerSecond: 10, globalPerSecond: 50 },
  })}\n`,
)
await shutdownRuntime(runtime)
await emu.close()
await rm(dataDir, { recursive: true, force: true })
process.exit(0)
