import { fileURLToPath } from 'node:url'
import { type Emulator, type EmulatorConnection, emulatorEnv } from '@repo/discord-emulator'
import type { VoiceEvent } from '@repo/discord-integration/contracts'
import type { ManagedProcess } from '@repo/process-harness'
import { freePort, spawnProcess } from '@repo/process-harness'
import type { CandidateStatus } from '../../src/cluster/gateway-candidate'

/**
 * Helpers for failover tests with real processes: gateway workers started by pid (their health
 * on a free loopback port) and a voice traffic generator that drives the emulator and knows
 * exactly which events the feed must carry. Exported as `@repo/discord-gateway/testing` for the
 * web app's multi-node tests.
 */

export const WORKER_BIN = fileURLToPath(
  new URL('../../bin/discord-gateway-worker.mjs', import.meta.url),
)

/** What a worker's GET /health answers. */
export type WorkerHealth = CandidateStatus & { status: 'ok' | 'degraded'; pid: number }

/** A `discord-gateway-worker` process. */
export interface GatewayWorker {
  readonly name: string
  readonly process: ManagedProcess
  readonly healthPort: number
  /** GET /health, or null when it does not answer within `timeoutMs` (paused, dead, starting). */
  health(timeoutMs?: number): Promise<WorkerHealth | null>
}

/** Options of {@link startGatewayWorker}. */
export interface GatewayWorkerOptions {
  name: string
  emulator: EmulatorConnection
  redisUrl: string
  prefix: string
  leaseMs: number
  /** More environment (LOG_LEVEL, GATEWAY_STREAM_MAXLEN...). */
  env?: Record<string, string>
}

/** Starts a worker process (node + tsx) with its health endpoint on a free port. */
export async function startGatewayWorker(options: GatewayWorkerOptions): Promise<GatewayWorker> {
  const healthPort = await freePort()
  const child = spawnProcess(process.execPath, [WORKER_BIN], {
    name: options.name,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      // DISCORD_API_URL, DISCORD_BOT_TOKEN, DISCORD_GUILD_ID... as `pnpm dev` maps them.
      ...emulatorEnv(options.emulator),
      REDIS_URL: options.redisUrl,
      REDIS_PREFIX: options.prefix,
      GATEWAY_LEASE_MS: String(options.leaseMs),
      GATEWAY_HOLDER_ID: options.name,
      WORKER_HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'info',
      ...options.env,
    },
  })
  return {
    name: options.name,
    process: child,
    healthPort,
    async health(timeoutMs = 500) {
      try {
        const response = await fetch(`http://127.0.0.1:${healthPort}/health`, {
          signal: AbortSignal.timeout(timeoutMs),
        })
        return (await response.json()) as WorkerHealth
      } catch {
        return null
      }
    },
  }
}

/** One change the generator made, and the events the feed must carry for it (in order). */
export interface ExpectedEvent {
  readonly type: VoiceEvent['type']
  readonly userId: string
  readonly channelId: string | null
  readonly detail: string
}

/** The comparable form of a feed event. */
export function describeEvent(event: VoiceEvent): ExpectedEvent {
  const detail =
    event.type === 'voice.left'
      ? event.reason
      : event.type === 'voice.updated'
        ? event.changed.join(',')
        : ''
  return { type: event.type, userId: event.userId, channelId: event.channelId, detail }
}

/**
 * Drives voice changes through the emulator's control API at a steady rate (open loop: a timer,
 * not waiting for anything), each one a join, a mute toggle, a move or a leave of a random user,
 * and records the events the feed must carry for it. Users and their channels are the emulator's.
 */
export class VoiceTraffic {
  readonly expected: ExpectedEvent[] = []
  readonly #state = new Map<string, { channelId: string; selfMute: boolean } | null>()
  #timer: NodeJS.Timeout | null = null
  #random: () => number
  changes = 0

  constructor(
    private readonly emu: Emulator,
    readonly users: readonly string[],
    readonly channels: readonly string[],
    seed = 1,
  ) {
    // A small deterministic PRNG (mulberry32), so a failure can be replayed.
    let a = seed >>> 0
    this.#random = () => {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    for (const v of emu.control.state().voiceStates) {
      this.#state.set(v.userId, { channelId: v.channelId, selfMute: v.selfMute })
    }
  }

  /** Starts `perSecond` changes a second (several per tick when the timer is late). */
  start(perSecond: number): void {
    const intervalMs = 10
    let due = performance.now()
    this.#timer = setInterval(() => {
      const now = performance.now()
      while (due <= now) {
        this.step()
        due += 1000 / perSecond
      }
    }, intervalMs)
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  /** One change. */
  step(): void {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(this.#random() * list.length)] as T
    const userId = pick(this.users)
    const now = this.#state.get(userId) ?? null
    const emu = this.emu.control
    this.changes++
    if (!now) {
      const channelId = pick(this.channels)
      emu.setVoice({ userId, channelId, selfMute: false })
      this.#state.set(userId, { channelId, selfMute: false })
      this.expected.push({ type: 'voice.joined', userId, channelId, detail: '' })
      return
    }
    const roll = this.#random()
    if (roll < 0.6) {
      const selfMute = !now.selfMute
      emu.setVoice({ userId, channelId: now.channelId, selfMute })
      this.#state.set(userId, { ...now, selfMute })
      this.expected.push({
        type: 'voice.updated',
        userId,
        channelId: now.channelId,
        detail: 'selfMute',
      })
    } else if (roll < 0.8) {
      const channelId = pick(this.channels.filter((c) => c !== now.channelId))
      emu.setVoice({ userId, channelId })
      this.#state.set(userId, { ...now, channelId })
      this.expected.push({ type: 'voice.left', userId, channelId: now.channelId, detail: 'moved' })
      this.expected.push({ type: 'voice.joined', userId, channelId, detail: '' })
    } else {
      emu.setVoice({ userId, channelId: null })
      this.#state.set(userId, null)
      this.expected.push({ type: 'voice.left', userId, channelId: now.channelId, detail: 'left' })
    }
  }
}
