import { afterEach, describe, expect, it } from 'vitest'
import {
  RespError,
  redisCommand,
  redisRole,
  runningProcesses,
  startRedisSentinel,
  startRedisSentinelGroup,
  stopAll,
  waitForPidGone,
  waitUntil,
} from '../src/index'

afterEach(async () => {
  await stopAll(1_000)
})

describe('startRedisSentinelGroup', () => {
  it('runs a master, its replica and a Sentinel; SENTINEL FAILOVER promotes the replica; stop leaves nothing', async () => {
    const group = await startRedisSentinelGroup({
      masterName: 'harness-master',
      password: 'data-secret',
      sentinelPassword: 'sentinel-secret',
    })
    const { master, replica, sentinel } = group
    const pids = [master.process.pid, replica.process.pid, sentinel.process.pid]
    const data = { password: 'data-secret' }
    try {
      expect(master.url).toBe(`redis://:data-secret@127.0.0.1:${master.port}`)
      expect(sentinel.address).toBe(`127.0.0.1:${sentinel.port}`)
      expect(await sentinel.masterPort()).toBe(master.port)
      // The Sentinel wants its password; the data nodes theirs.
      expect(
        await redisCommand(sentinel.port, [
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          'harness-master',
        ]),
      ).toBeInstanceOf(RespError)
      expect(await redisCommand(master.port, ['GET', 'k'])).toBeInstanceOf(RespError)

      expect(await redisCommand(master.port, ['SET', 'k', 'before'], data)).toBe('OK')
      const onReplica = await redisCommand(replica.port, ['SET', 'k', 'x'], data)
      expect(onReplica).toBeInstanceOf(RespError)
      expect((onReplica as RespError).message).toMatch(/^READONLY/)
      await waitUntil(
        async () => (await redisCommand(replica.port, ['GET', 'k'], data)) === 'before',
        5_000,
        'the write replicated',
      )

      expect(await sentinel.failover()).toEqual({ from: master.port, to: replica.port })
      expect(await redisRole(replica.port, 'data-secret')).toBe('master')
      expect(await redisCommand(replica.port, ['SET', 'k', 'after'], data)).toBe('OK')
      // The Sentinel turns the old master into a replica of the new one.
      await waitUntil(
        async () => (await redisRole(master.port, 'data-secret')) === 'slave',
        15_000,
        'the old master demoted',
      )
      await waitUntil(
        async () => (await redisCommand(master.port, ['GET', 'k'], data)) === 'after',
        15_000,
        'the old master following the new one',
      )
    } finally {
      await group.stop()
    }
    for (const pid of pids) await waitForPidGone(pid)
    expect(runningProcesses()).toEqual([])
  })

  it('fails, not skips, when the binary is missing', async () => {
    await expect(
      startRedisSentinel({
        masterPort: 1,
        binary: '/nonexistent/redis-server',
        startTimeoutMs: 2_000,
      }),
    ).rejects.toThrow(/exited/)
  })
})
