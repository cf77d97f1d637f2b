import {
  type RedisSentinelGroup,
  redisCommand,
  startRedisSentinelGroup,
  stopAll,
} from '@repo/process-harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { createClusteredVoiceFeed } from '../src/cluster/clustered-feed'
import { voiceFeedKeys } from '../src/cluster/keys'
import { parseWorkerEnv } from '../src/config'
import { FeedRecorder, PREFIX } from './support/cluster'
import { startGatewayWorker } from './support/failover-world'
import { streamEntries } from './support/feed'
import { eventually, startTestEmulator, testLogger, voiceChannels } from './support/harness'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await stopAll(2_000)
})

const DATA_PASSWORD = 'data-secret'
const SENTINEL_PASSWORD = 'sentinel-secret'

/** The stream's joins on the data node at `port` (read there directly, not through the Sentinel). */
async function streamJoins(port: number, guildId: string): Promise<string[]> {
  const direct = new Redis({ host: '127.0.0.1', port, password: DATA_PASSWORD, lazyConnect: true })
  try {
    await direct.connect()
    const entries = await streamEntries(direct, voiceFeedKeys(PREFIX, guildId))
    return entries.flatMap((e) => (e.event?.type === 'voice.joined' ? [e.event.userId] : []))
  } finally {
    direct.disconnect()
  }
}

/** The connection names (CLIENT SETNAME) on the data node at `port`. */
async function clientNames(port: number): Promise<string[]> {
  const list = await redisCommand(port, ['CLIENT', 'LIST'], { password: DATA_PASSWORD })
  return typeof list === 'string'
    ? [...list.matchAll(/ name=(\S+)/g)].map((m) => m[1] as string)
    : []
}

describe('Redis behind Sentinel', () => {
  it('a gateway worker and a reader configured through the Sentinel keep writing and reading after SENTINEL FAILOVER, without a restart', async () => {
    const group: RedisSentinelGroup = await startRedisSentinelGroup({
      masterName: 'tv-master',
      password: DATA_PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
    })
    cleanups.push(() => group.stop())
    const emu = await startTestEmulator({ resumeWindowMs: 30_000 })
    cleanups.push(() => emu.close())
    const users = [0, 1, 2].map((i) => emu.control.createUser({ username: `player${i}` }).id)
    const [lobby, table] = voiceChannels(emu) as [string, string]
    const [u0, u1, u2] = users as [string, string, string]

    // REDIS_URL's host is the master name, not an address: only the Sentinel knows where it is.
    const env = {
      DISCORD_API_URL: emu.restBase,
      DISCORD_BOT_TOKEN: emu.botToken,
      DISCORD_GUILD_ID: emu.guildId,
      REDIS_URL: `redis://:${DATA_PASSWORD}@tv-master/0`,
      // A second Sentinel that is down: the clients use the one that answers.
      REDIS_SENTINELS: `127.0.0.1:1,${group.sentinel.address}`,
      REDIS_SENTINEL_NAME: 'tv-master',
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    }
    const worker = await startGatewayWorker({
      name: 'worker-sentinel',
      emulator: emu,
      redisUrl: env.REDIS_URL,
      prefix: PREFIX,
      leaseMs: 1_000,
      env: {
        REDIS_SENTINELS: env.REDIS_SENTINELS,
        REDIS_SENTINEL_NAME: env.REDIS_SENTINEL_NAME,
        REDIS_SENTINEL_PASSWORD: env.REDIS_SENTINEL_PASSWORD,
      },
    })
    const parsed = parseWorkerEnv(env)
    const reader = createClusteredVoiceFeed({
      redisUrl: parsed.redisUrl,
      redisOptions: parsed.redisOptions,
      prefix: PREFIX,
      leaseMs: 1_000,
      candidate: false,
      mirror: { blockMs: 500, checkMs: 200 },
      logger: testLogger,
    })
    cleanups.push(() => reader.stop())
    await reader.start()
    await eventually(async () => expect((await worker.health())?.state).toBe('leading'), 15_000)
    await reader.ready(10_000)
    const seen = new FeedRecorder(reader)

    emu.control.setVoice({ userId: u0, channelId: lobby })
    await eventually(() =>
      expect(seen.streamEvents().map((e) => [e.type, e.userId])).toEqual([['voice.joined', u0]]),
    )
    expect(await streamJoins(group.master.port, emu.guildId)).toContain(u0)

    // Every connection is on the master the Sentinel named, none on the replica.
    const names = ['discord-gateway-worker', 'voice-feed', 'voice-feed-reader']
    expect(await clientNames(group.master.port)).toEqual(expect.arrayContaining(names))
    expect(await clientNames(group.replica.port)).not.toContain('discord-gateway-worker')

    const { from, to } = await group.sentinel.failover()
    expect([from, to]).toEqual([group.master.port, group.replica.port])
    // They follow +switch-master at once, before the Sentinel demotes the old master (writes
    // there until then would be lost: the failover case docs/operations.md describes).
    await eventually(async () =>
      expect(await clientNames(to)).toEqual(expect.arrayContaining(names)),
    )
    expect(await clientNames(from)).not.toEqual(expect.arrayContaining(['discord-gateway-worker']))

    // The same worker process (no restart) writes to the promoted replica; the reader follows.
    emu.control.setVoice({ userId: u1, channelId: table })
    emu.control.setVoice({ userId: u2, channelId: lobby })
    await eventually(
      () =>
        expect(seen.streamEvents().map((e) => [e.type, e.userId])).toEqual(
          expect.arrayContaining([
            ['voice.joined', u1],
            ['voice.joined', u2],
          ]),
        ),
      20_000,
    )
    const onNewMaster = await streamJoins(to, emu.guildId)
    expect(onNewMaster.filter((id) => id !== u0)).toEqual([u1, u2])
    expect(worker.process.alive).toBe(true)
    await eventually(async () => expect((await worker.health())?.state).toBe('leading'), 15_000)
    expect(
      reader
        .channelMembers(lobby)
        .map((m) => m.userId)
        .sort(),
    ).toEqual([u0, u2].sort())
    expect(reader.channelMembers(table).map((m) => m.userId)).toEqual([u1])
  })
})
