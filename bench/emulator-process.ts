/**
 * The Discord emulator in its own process, so its CPU is separable from the server's and the
 * load generator's. Started by run.mjs as `node --import tsx bench/emulator-process.ts` (pinned
 * with taskset), with BENCH_ROOMS rooms of BENCH_PLAYERS players in the environment:
 *
 * - At start it seeds the emulator's world (the default world plus one category, one voice channel
 *   per room and its players, all already connected to voice, so no server sees a dispatch for
 *   the setup) with the per-guild and per-category channel limits lifted, and reports `ready`
 *   with the connection facts and the rooms.
 * - `run {schedule}` is the open-loop generator. Event g is due at `dueAt(schedule, g)`; it toggles
 *   `selfMute` of the room's next player through the control API (`control.setVoice`), which makes
 *   the gateway dispatch VOICE_STATE_UPDATE. The generator sleeps on a timer until the next
 *   intended send time, then sends every event whose time has passed, in order (it does not spin:
 *   the load process shares its core). Being late never shifts later events (no coordinated
 *   omission; receipts are measured from the intended time); the reply reports how late the sends
 *   were against the schedule (generator lag).
 */
import {
  DEFAULT_WORLD,
  emulatorEnv,
  startEmulator,
  type WorldSeed,
} from '../packages/discord-emulator/src/index.ts'
import { nowMs } from './lib/clock.mjs'
import { fullGc } from './lib/gc.mjs'
import { LatencyHistogram } from './lib/hist.mjs'
import { serveRequests } from './lib/ipc.mjs'
import { dueAt, playerOf, roomOf } from './lib/schedule.mjs'
import { logStalls } from './lib/stalls.mjs'

logStalls('emulator')

interface BenchRoom {
  /** The guild and category the room's channel is in. */
  guildId: string
  categoryId: string
  channelId: string
  players: string[]
  usernames: string[]
}
interface Schedule {
  t0: number
  rate: number
  count: number
  rooms: number
  warmup: number
  name: string
  /** Index of the schedule's room 0 in this process's room list. */
  roomOffset: number
}

/** Sizes come from run.mjs through the environment (bench-only variables, not app config). */
const benchEnv = (name: string, fallback: number) =>
  Number(process.env[`BENCH_${name}`] ?? fallback)
const roomCount = benchEnv('ROOMS', 25)
const playersPerRoom = benchEnv('PLAYERS', 4)
/** Guilds the rooms are spread over, round robin: the default one and BENCH_GUILDS - 1 more. */
const guildCount = benchEnv('GUILDS', 1)
/** The emulator's guilds per shard (Discord: 2500); 2 with 4 guilds makes the gateway shard. */
const guildsPerShard = benchEnv('GUILDS_PER_SHARD', 2500)

/** Bench snowflakes: 19 digits, far from the default world's ids. */
let nextId = 1_300_000_000_000_000_000n
const snowflake = () => String(nextId++)

/**
 * The extra guilds' ids: one millisecond apart in their timestamp bits, so that Discord's
 * `(guild_id >> 22) % num_shards` spreads them evenly over the shards (ids minted in the same
 * millisecond would all land on one shard).
 */
const guildIdOf = (k: number) => String((1_250_000_000_000n + BigInt(k)) << 22n)

function benchWorld(): { seed: WorldSeed; categoryId: string; rooms: BenchRoom[] } {
  const base = DEFAULT_WORLD
  const users: WorldSeed['users'] = [...base.users]
  const channels: WorldSeed['channels'] = [...base.channels]
  const voiceStates: NonNullable<WorldSeed['voiceStates']> = [...(base.voiceStates ?? [])]
  const extra: NonNullable<WorldSeed['guilds']> = []
  // Guild 0 is the default guild (its channels and voice states are the seed's top-level ones).
  const guilds = Array.from({ length: guildCount }, (_, k) => {
    const categoryId = snowflake()
    const category = { id: categoryId, name: 'bench', type: 4 as const, position: 10 }
    if (k === 0) {
      channels.push(category)
      return { id: base.guild.id, categoryId, channels, voiceStates, members: null }
    }
    const guild = {
      id: guildIdOf(k),
      name: `Bench pool ${k}`,
      ownerId: base.guild.ownerId,
      channels: [category] as NonNullable<NonNullable<WorldSeed['guilds']>[number]['channels']>,
      voiceStates: [] as NonNullable<NonNullable<WorldSeed['guilds']>[number]['voiceStates']>,
      members: [] as { userId: string }[],
    }
    extra.push(guild)
    return { ...guild, categoryId }
  })
  const rooms: BenchRoom[] = []
  for (let r = 0; r < roomCount; r++) {
    const guild = guilds[r % guildCount]!
    const channelId = snowflake()
    guild.channels.push({
      id: channelId,
      name: `bench-${r}`,
      type: 2,
      parentId: guild.categoryId,
      position: r,
      userLimit: playersPerRoom,
    })
    const room: BenchRoom = {
      guildId: guild.id,
      categoryId: guild.categoryId,
      channelId,
      players: [],
      usernames: [],
    }
    for (let p = 0; p < playersPerRoom; p++) {
      const id = snowflake()
      const username = `bench${r}x${p}`
      // A player of another guild is a member there (not of the default guild).
      users.push({ id, username, member: guild.members === null })
      guild.members?.push({ userId: id })
      guild.voiceStates.push({ userId: id, channelId, selfMute: false })
      room.players.push(id)
      room.usernames.push(username)
    }
    rooms.push(room)
  }
  return {
    seed: {
      ...base,
      users,
      channels,
      voiceStates,
      guilds: extra,
      sharding: { guildsPerShard, maxConcurrency: 1 },
    },
    categoryId: guilds[0]!.categoryId,
    rooms,
  }
}

const t = nowMs()
const { seed, categoryId, rooms } = benchWorld()
const emulator = await startEmulator({
  port: 0,
  world: seed,
  quiet: true,
  heartbeatIntervalMs: benchEnv('HEARTBEAT_MS', 15_000),
  // Consecutive arms identify one after another; nothing here is about identify throttling.
  identifyIntervalMs: 100,
  limits: { channelsPerGuild: 1_000_000, channelsPerCategory: 1_000_000 },
  rateLimits: { route: { limit: 100_000, windowMs: 1000 }, globalPerSecond: 100_000 },
})
const control = emulator.control

/** Every player's current selfMute, so each event is a real change. */
const muted = new Map<string, boolean>()
for (const room of rooms) for (const id of room.players) muted.set(id, false)

serveRequests({
  run: (msg: { schedule: Schedule }) => runSchedule(msg.schedule),
  stats: () => control.stats(),
  /** A full collection before a measured window (see measure() in run.mjs). */
  gc: () => fullGc(),
})
process.send?.({
  event: 'ready',
  info: {
    restBase: emulator.restBase,
    guildId: emulator.guildId,
    /** Every guild of the bench, the default one first (the pool of scenario (h)). */
    guildIds: [...new Set([emulator.guildId, ...rooms.map((r) => r.guildId)])],
    botToken: emulator.botToken,
    /** The app's Discord settings for this emulator (DISCORD_API_URL, ...). */
    env: emulatorEnv(emulator),
    pid: process.pid,
    setupMs: Math.round(nowMs() - t),
  },
  categoryId,
  rooms,
})

/** Sends the schedule's events open-loop; resolves with the generator's lag statistics. */
function runSchedule(schedule: Schedule) {
  const lag = new LatencyHistogram()
  // When each event was actually handed to the emulator (monotonic ms): receipts are also
  // measured from it, which leaves the generator's own lateness out.
  const sentAt = new Float64Array(schedule.count)
  let g = 0
  let errors = 0
  let firstError: string | null = null
  return new Promise((resolve) => {
    const tick = () => {
      // Events falling due while this tick sends are sent in it too (the burst's 5 per ms).
      while (g < schedule.count && dueAt(schedule, g) <= nowMs()) {
        const room = rooms[schedule.roomOffset + roomOf(schedule, g)]
        const userId = room?.players[playerOf(Math.floor(g / schedule.rooms), room.players.length)]
        sentAt[g] = nowMs()
        if (room && userId) {
          const next = !muted.get(userId)
          try {
            control.setVoice({ userId, channelId: room.channelId, selfMute: next })
            muted.set(userId, next)
          } catch (err) {
            errors++
            firstError ??= String(err)
          }
        } else {
          errors++
        }
        lag.record(sentAt[g] - dueAt(schedule, g))
        g++
      }
      if (g >= schedule.count) {
        resolve({ sent: g, errors, firstError, lag: lag.summary(), sentAt: Array.from(sentAt) })
        return
      }
      sleepUntilDue()
    }
    // Timer-driven, never spinning: sleep until (just before) the next intended send time. Node
    // timers have ~1 ms granularity and never fire early by more than a fraction of a ms, so a
    // wake-up finds either due events (all sent above, in order) or, rarely, none, and sleeps again
    // (a 0 ms timer is 1 ms). The timer's slack lands in the generator lag and, since receipts
    // are measured from the intended time, in every arm's latency alike.
    const sleepUntilDue = () => {
      setTimeout(tick, Math.max(0, Math.floor(dueAt(schedule, g) - nowMs())))
    }
    sleepUntilDue()
  })
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void emulator.close().finally(() => process.exit(0))
  })
}
