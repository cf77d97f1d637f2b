import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import {
  type RedisSentinelGroup,
  redisCommand,
  startRedisSentinelGroup,
  stopAll,
  waitUntil,
} from '@repo/process-harness'
import { afterEach, describe, expect, it } from 'vitest'
import type { ServerConfig } from '../../src/server/config.server'
import { bootRuntime, createRuntime, shutdownRuntime } from '../../src/server/runtime.server'
import { checkRedis } from '../../src/server/setup-checks.server'
import { emulatorConfig, logger, newActor, until } from '../rooms/harness'

/**
 * A web node whose every Redis connection goes through a real Sentinel (a master, its replica,
 * a Sentinel, all redis-server processes of the test's own): it works, and after
 * `SENTINEL FAILOVER` it keeps writing rooms, presence frames and the voice stream to the promoted
 * replica without a restart.
 */
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

const DATA_PASSWORD = 'data-secret'
const SENTINEL_PASSWORD = 'sentinel-secret'
const PREFIX = 'tv-sentinel:'

async function world(): Promise<{ emu: Emulator; group: RedisSentinelGroup; dir: string }> {
  const group = await startRedisSentinelGroup({
    masterName: 'tv-master',
    password: DATA_PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
  })
  cleanups.push(() => group.stop())
  const emu = await startEmulator({ port: 0, quiet: true, heartbeatIntervalMs: 1_000 })
  const dir = await mkdtemp(join(tmpdir(), 'tv-sentinel-'))
  cleanups.push(async () => {
    await emu.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { emu, group, dir }
}

/** The environment of a node behind the Sentinel: REDIS_URL's host is the master's name. */
function sentinelConfig(
  emu: Emulator,
  group: RedisSentinelGroup,
  dir: string,
  extra: Record<string, string> = {},
): ServerConfig {
  return emulatorConfig(emu, {
    DATA_DIR: dir,
    REDIS_URL: `redis://:${DATA_PASSWORD}@tv-master/0`,
    REDIS_SENTINELS: group.sentinel.address,
    REDIS_SENTINEL_NAME: 'tv-master',
    REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    REDIS_PREFIX: PREFIX,
    LEADER_LEASE_MS: '300',
    GATEWAY_LEASE_MS: '600',
    GATEWAY_HOLDER_ID: 'sentinel-node',
    ...extra,
  })
}

const exists = async (port: number, key: string) =>
  (await redisCommand(port, ['EXISTS', key], { password: DATA_PASSWORD })) === 1

/**
 * The application's connections on the data node at `port`: every client but the Sentinel's,
 * replication links and this query's own.
 */
async function appClients(port: number): Promise<string[]> {
  const list = await redisCommand(port, ['CLIENT', 'LIST'], { password: DATA_PASSWORD })
  if (typeof list !== 'string') throw new Error(`CLIENT LIST answered ${JSON.stringify(list)}`)
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/ name=sentinel-/.test(line) && !/ flags=[^ ]*[SM]/.test(line))
    .filter((line) => !/ cmd=client\|list /.test(line))
}

const lobbyOf = (emu: Emulator) =>
  emu.control.state().channels.find((c) => c.name === 'Lobby')?.id as string

describe('a web node on Redis behind Sentinel', () => {
  it('runs through the Sentinel and keeps writing rooms, presence frames and voice after SENTINEL FAILOVER, without a restart', async () => {
    const { emu, group, dir } = await world()
    const runtime = createRuntime(sentinelConfig(emu, group, dir), { logger })
    cleanups.push(() => shutdownRuntime(runtime))
    await bootRuntime(runtime)
    await runtime.cluster?.ready(10_000)
    await until(() => runtime.cluster?.status().isLeader === true, 5_000)

    const owner = newActor({ emu } as Parameters<typeof newActor>[0], 'sentinel')
    emu.control.setVoice({ userId: owner.userId, channelId: lobbyOf(emu) })
    await until(
      () => runtime.voice.memberChannel(emu.guildId, owner.userId) === lobbyOf(emu),
      5_000,
    )
    const before = await runtime.rooms.createRoom(owner, 'before failover')
    const { master, replica } = group
    expect(await exists(master.port, `${PREFIX}room:${before.id}`)).toBe(true)
    // The runtime's client, the event bus's two, the feed's two (and the lease's, the
    // watchers'...): all on the master, none on the replica.
    expect((await appClients(master.port)).length).toBeGreaterThanOrEqual(5)
    expect(await appClients(replica.port)).toEqual([])

    const { from, to } = await group.sentinel.failover()
    expect([from, to]).toEqual([master.port, replica.port])
    // Every connection follows the Sentinels' +switch-master at once, long before the Sentinel
    // demotes the old master (a write there until then would be lost, as docs/operations.md says).
    await waitUntil(
      async () => (await appClients(from)).length === 0,
      5_000,
      'every connection off the old master',
    )
    expect(await redisCommand(from, ['ROLE'], { password: DATA_PASSWORD })).toEqual(
      expect.arrayContaining(['master']),
    )

    // The same runtime, no restart: its writes land on the promoted replica.
    const after = await runtime.rooms.createRoom(owner, 'after failover')
    expect(await exists(to, `${PREFIX}room:${after.id}`)).toBe(true)
    expect(runtime.rooms.roomAccess(after.id, owner.userId)).not.toBeNull()
    // The gateway's writer and the stream reader (the clustered feed's connections) too.
    expect((await runtime.rooms.connectVoice(owner, after.id)).status).toBe('moved')
    await until(
      () => runtime.voice.memberChannel(emu.guildId, owner.userId) === after.channelId,
      10_000,
    )
    // The presence event bus (its own connections) stamps the room's voice frames there. A
    // publish that failed while its connections were still switching is answered by a snapshot
    // to the room's sockets (by design), so later changes are what must land on the new master:
    // the owner toggles their mute until one does.
    let muted = false
    await waitUntil(
      async () => {
        if (await exists(to, `${PREFIX}presence:room:${after.id}:seq`)) return true
        muted = !muted
        emu.control.setVoice({ userId: owner.userId, channelId: after.channelId, selfMute: muted })
        return false
      },
      15_000,
      'a room frame stamped on the new master',
      500,
    )
    expect(
      await redisCommand(to, ['XLEN', `${PREFIX}voice:${emu.guildId}:stream`], {
        password: DATA_PASSWORD,
      }),
    ).toBeGreaterThan(0)
    // Its health recovers by itself (the connections' errors during the switch pass).
    await waitUntil(
      () => runtime.cluster?.status().health === 'ok',
      10_000,
      'the feed healthy again',
    )
  }, 60_000)

  it('the setup check reaches Redis through the Sentinel, and names the Sentinels when they refuse', async () => {
    const { emu, group, dir } = await world()
    const ok = await checkRedis(sentinelConfig(emu, group, dir), 3_000)
    expect(ok).toMatchObject({
      status: 'ok',
      message: `Redis at master "tv-master" of the Sentinels ${group.sentinel.address} answers PING`,
    })
    const refused = await checkRedis(
      sentinelConfig(emu, group, dir, { REDIS_SENTINEL_PASSWORD: 'wrong-password' }),
      3_000,
    )
    expect(refused.status).toBe('fail')
    expect(JSON.stringify(refused)).not.toContain('wrong-password')
    expect(JSON.stringify(refused)).not.toContain(DATA_PASSWORD)
    expect(refused.fix).toMatch(/REDIS_SENTINEL_PASSWORD/)
  }, 30_000)
})
