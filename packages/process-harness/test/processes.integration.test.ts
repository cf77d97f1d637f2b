import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  pidAlive,
  redisAnswers,
  runningProcesses,
  spawnProcess,
  startRedisServer,
  startTcpProxy,
  stopAll,
  waitForPidGone,
} from '../src/index'

/** The one-letter state of a Linux process (`T` = stopped by a signal). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
}

const cli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim()

const script = `
let n = 0
setInterval(() => console.log(JSON.stringify({ tick: ++n })), 20)
process.on('SIGTERM', () => { console.log('bye'); process.exit(0) })
console.error('started')
`

afterEach(async () => {
  await stopAll(1_000)
})

describe('ManagedProcess', () => {
  it('reads lines and JSON lines, pauses with SIGSTOP, resumes with SIGCONT and stops by pid', async () => {
    const child = spawnProcess(process.execPath, ['-e', script], { name: 'ticker', env: {} })
    expect(await child.waitForLine(/started/, 5_000)).toBe('started')
    await child.waitForLine((line) => line.includes('"tick":3'), 5_000)
    expect(child.jsonLines().slice(0, 3)).toEqual([{ tick: 1 }, { tick: 2 }, { tick: 3 }])
    child.pause()
    await expect.poll(() => procState(child.pid)).toBe('T')
    const frozenAt = child.lines().length
    await new Promise((r) => setTimeout(r, 150))
    expect(child.lines().length).toBe(frozenAt)
    child.resume()
    await child.waitForLine(
      (line) => child.lines().length > frozenAt + 2 && line.includes('tick'),
      5_000,
    )
    // A paused process still stops: stop() continues it after SIGTERM.
    child.pause()
    await expect.poll(() => procState(child.pid)).toBe('T')
    const pid = child.pid
    expect(await child.stop(2_000)).toEqual({ code: 0, signal: null })
    expect(child.lines().at(-1)?.text).toBe('bye')
    await waitForPidGone(pid)
    expect(runningProcesses()).not.toContain(child)
  })

  it('kill() is kill -9 and rejects waiters when the process exits', async () => {
    const child = spawnProcess(process.execPath, ['-e', script], { name: 'victim', env: {} })
    await child.waitForLine(/started/, 5_000)
    const waiting = child.waitForLine(/never printed/, 10_000)
    expect(await child.kill()).toEqual({ code: null, signal: 'SIGKILL' })
    await expect(waiting).rejects.toThrow(/exited before the line appeared/)
    expect(pidAlive(child.pid)).toBe(false)
  })
})

describe('startRedisServer', () => {
  it('runs redis-server on a free port, restarts it empty, and leaves nothing behind', async () => {
    const redis = await startRedisServer()
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(await redisAnswers(redis.port)).toBe(true)
    expect(cli(redis.port, 'SET', 'k', 'v')).toBe('OK')
    const first = redis.process.pid
    await redis.kill()
    expect(await redisAnswers(redis.port)).toBe(false)
    expect(pidAlive(first)).toBe(false)
    await redis.start()
    expect(redis.process.pid).not.toBe(first)
    expect(await redisAnswers(redis.port)).toBe(true)
    expect(cli(redis.port, 'GET', 'k')).toBe('') // no persistence: the restart lost everything
    const second = redis.process.pid
    await redis.stop()
    expect(pidAlive(second)).toBe(false)
    expect(await redisAnswers(redis.port)).toBe(false)
  })
  it('with persistence aof, a restart keeps what was written a second before the kill', async () => {
    const redis = await startRedisServer({ persistence: 'aof' })
    try {
      expect(cli(redis.port, 'SET', 'k', 'kept')).toBe('OK')
      await new Promise((r) => setTimeout(r, 1_500)) // appendfsync everysec
      await redis.restart()
      expect(cli(redis.port, 'GET', 'k')).toBe('kept')
    } finally {
      await redis.stop()
    }
  })
  it('a TCP proxy forwards, freezes (replies wait) and thaws', async () => {
    const redis = await startRedisServer()
    const proxy = await startTcpProxy(redis.port)
    try {
      expect(await redisAnswers(proxy.port)).toBe(true)
      proxy.freeze()
      expect(await redisAnswers(proxy.port, 300)).toBe(false)
      proxy.thaw()
      expect(await redisAnswers(proxy.port)).toBe(true)
    } finally {
      await proxy.close()
      await redis.stop()
    }
  })
})
