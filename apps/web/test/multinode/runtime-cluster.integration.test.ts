import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { startGatewayWorker } from '@repo/discord-gateway/testing'
import { stopAll } from '@repo/process-harness'
import { afterEach, describe, expect, it } from 'vitest'
import { Route as HealthRoute } from '../../src/routes/api/health'
import { Route as MetricsRoute } from '../../src/routes/metrics'
import { checkReadiness } from '../../src/server/readiness.server'
import {
  bootRuntime,
  createRuntime,
  type Runtime,
  shutdownRuntime,
} from '../../src/server/runtime.server'
import { runtimeStatus } from '../../src/server/runtime-status'
import { routeHandler } from '../glue/route-handlers'
import { emulatorConfig, logger, newActor, until } from '../rooms/harness'
import { REDIS_URL, testPrefix } from './nodes'

/**
 * Web runtimes on one Redis (several nodes, in one test process): the clustered voice feed is
 * their voice presence, a candidate in each node (GATEWAY_MODE=in-process) or a reader only
 * beside `discord-gateway-worker` processes (GATEWAY_MODE=worker).
 */
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

async function setUp(): Promise<{
  emu: Emulator
  node: (name: string, settings?: Record<string, string>) => Promise<Runtime>
  stop: (runtime: Runtime) => Promise<void>
  prefix: string
}> {
  const emu = await startEmulator({ port: 0, quiet: true, heartbeatIntervalMs: 1_000 })
  const dir = await mkdtemp(join(tmpdir(), 'tv-cluster-'))
  const run = testPrefix()
  cleanups.push(async () => {
    await emu.close()
    await run.cleanup()
    await rm(dir, { recursive: true, force: true })
  })
  let port = 3980
  const running = new Set<Runtime>()
  const stop = async (runtime: Runtime) => {
    if (running.delete(runtime)) await shutdownRuntime(runtime)
  }
  const node = async (name: string, settings: Record<string, string> = {}) => {
    const runtime = createRuntime(
      emulatorConfig(emu, {
        SESSION_SECRET: 'm'.repeat(40),
        PUBLIC_URL: `http://127.0.0.1:${port++}`,
        DATA_DIR: dir,
        REDIS_URL,
        REDIS_PREFIX: run.prefix,
        LEADER_LEASE_MS: '300',
        GATEWAY_LEASE_MS: '600',
        GATEWAY_HOLDER_ID: name,
        ...settings,
      }),
      { logger },
    )
    running.add(runtime)
    cleanups.push(() => stop(runtime))
    await bootRuntime(runtime)
    return runtime
  }
  return { emu, node, stop, prefix: run.prefix }
}

async function health(runtime: Runtime) {
  const response = await routeHandler(
    HealthRoute,
    'GET',
  )({
    request: new Request('http://127.0.0.1/api/health'),
    context: { status: runtimeStatus(runtime, true), clientAddress: '127.0.0.1' },
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function metrics(runtime: Runtime): Promise<string> {
  const response = await routeHandler(
    MetricsRoute,
    'GET',
  )({
    request: new Request('http://127.0.0.1/metrics'),
    context: { status: runtimeStatus(runtime, true), clientAddress: '127.0.0.1' },
  })
  return response.text()
}

const lobbyOf = (emu: Emulator) =>
  emu.control.state().channels.find((c) => c.name === 'Lobby')?.id as string

describe('several web nodes on Redis (the clustered voice feed)', () => {
  it('in-process: one node leads the gateway, every node reads the stream, health and metrics show it; a shutdown hands the gateway over by RESUME', async () => {
    const { emu, node, stop } = await setUp()
    const a = await node('node-a')
    await a.cluster?.ready(10_000)
    const b = await node('node-b')
    await b.cluster?.ready(10_000)
    expect(a.feed).toBeNull()
    await until(() => a.cluster?.status().isLeader === true, 5_000)
    const token = a.cluster?.status().fencingToken as number
    expect(b.cluster?.status().isLeader).toBe(false)

    // Both nodes' voice presence follows the one gateway.
    const owner = newActor({ emu } as Parameters<typeof newActor>[0], 'cluster')
    emu.control.setVoice({ userId: owner.userId, channelId: lobbyOf(emu) })
    await until(() => a.voice.memberChannel(emu.guildId, owner.userId) === lobbyOf(emu), 5_000)
    await until(() => b.voice.memberChannel(emu.guildId, owner.userId) === lobbyOf(emu), 5_000)

    // The follower's health: who leads, with which token, its lag and the leader's handover.
    await until(() => b.cluster?.status().lastHandover?.holderId === 'node-a', 5_000)
    const followerHealth = await health(b)
    expect(followerHealth.status).toBe(200)
    expect(followerHealth.body).toMatchObject({
      status: 'ok',
      layout: 'cluster',
      gatewayMode: 'in-process',
      gateway: {
        health: 'ok',
        reasons: [],
        leader: { holderId: 'node-a', token },
        fencingToken: token,
        isLeader: false,
        lag: { entries: 0, ms: 0 },
        lastHandover: { holderId: 'node-a', token, mode: 'identified' },
      },
    })
    const text = await metrics(b)
    expect(text).toContain(`voice_feed_fencing_token ${token}`)
    expect(text).toContain('voice_feed_is_leader 0')
    expect(text).toContain('voice_feed_leader_present 1')
    expect(text).toContain('voice_feed_lag_entries 0')
    expect(text).toContain('voice_feed_last_handover_resumed 0')
    expect(text).toContain('presence_frames_sent_total') // the presence metrics stay
    expect(await metrics(a)).toContain('voice_feed_is_leader 1')
    expect(await checkReadiness(b)).toEqual({ ready: true, reasons: [] })

    // Rooms are shared too (the store and the cleanup lease are on Redis).
    const room = await a.rooms.createRoom(owner, 'across nodes')
    await until(() => b.rooms.roomForChannel(room.channelId) === room.id, 5_000)
    expect(b.rooms.roomAccess(room.id, owner.userId)).not.toBeNull()
    expect((await b.rooms.connectVoice(owner, room.id)).status).toBe('moved')
    await until(() => a.voice.memberChannel(emu.guildId, owner.userId) === room.channelId, 5_000)
    await until(() => b.voice.memberChannel(emu.guildId, owner.userId) === room.channelId, 5_000)

    // The leader stops (SIGTERM): it closes with 4200 and releases the lease; b resumes.
    const before = emu.control.stats()
    await stop(a)
    await until(() => b.cluster?.status().lastHandover?.mode === 'resumed', 5_000)
    const after = await health(b)
    expect(after.body).toMatchObject({
      status: 'ok',
      gateway: {
        isLeader: true,
        leader: { holderId: 'node-b' },
        lastHandover: { holderId: 'node-b', mode: 'resumed' },
      },
    })
    expect((after.body.gateway as { fencingToken: number }).fencingToken).toBeGreaterThan(token)
    expect(emu.control.stats()).toMatchObject({ identifies: before.identifies })
    expect(emu.control.stats().resumes).toBe(before.resumes + 1)
    await until(() => b.leadership.isLeader, 2_000)
    emu.control.setVoice({ userId: owner.userId, channelId: null })
    await until(() => b.voice.memberChannel(emu.guildId, owner.userId) === null, 5_000)
  }, 30_000)

  it('worker: a web node runs no gateway, follows the worker, and says degraded once no one leads', async () => {
    const { emu, node, prefix } = await setUp()
    const worker = await startGatewayWorker({
      name: 'worker-1',
      emulator: emu,
      redisUrl: REDIS_URL,
      prefix,
      leaseMs: 600,
    })
    const web = await node('web-1', { GATEWAY_MODE: 'worker' })
    await web.cluster?.ready(15_000)
    expect(web.cluster?.status()).toMatchObject({ candidate: null, isLeader: false })
    await until(() => web.cluster?.status().leader?.holderId === 'worker-1', 5_000)

    const owner = newActor({ emu } as Parameters<typeof newActor>[0], 'worker')
    emu.control.setVoice({ userId: owner.userId, channelId: lobbyOf(emu) })
    await until(() => web.voice.memberChannel(emu.guildId, owner.userId) === lobbyOf(emu), 5_000)
    const room = await web.rooms.createRoom(owner, 'worker room')
    expect((await web.rooms.connectVoice(owner, room.id)).status).toBe('moved')
    await until(() => web.voice.memberChannel(emu.guildId, owner.userId) === room.channelId, 5_000)
    expect(await health(web)).toMatchObject({
      status: 200,
      body: { status: 'ok', gatewayMode: 'worker', gateway: { leader: { holderId: 'worker-1' } } },
    })

    // kill -9: no leader for longer than a lease is degraded (200: the node still serves).
    await worker.process.kill()
    await until(() => web.cluster?.status().health === 'degraded', 5_000)
    const degraded = await health(web)
    expect(degraded).toMatchObject({ status: 200, body: { status: 'degraded' } })
    expect((degraded.body.gateway as { reasons: string[] }).reasons).toEqual([
      expect.stringMatching(/^no gateway leader for \d+ ms$/),
    ])
    expect(await metrics(web)).toContain('voice_feed_degraded 1')
    // Every node would say the same: it stays in the load balancer's pool.
    expect((await checkReadiness(web)).ready).toBe(true)
  }, 30_000)
})
