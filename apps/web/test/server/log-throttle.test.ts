import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { LogThrottle } from '../../src/server/log-throttle'
import { ManualClock } from '../support/manual-clock'

/** A pino logger writing JSON lines into an array. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = pino({ level: 'trace' }, stream)
  // pino writes synchronously to a plain stream: lines are there when log() returns
  return { logger, lines }
}

describe('LogThrottle', () => {
  it('writes the first N lines of a kind per interval, then one summary with the count', async () => {
    const clock = new ManualClock()
    const { logger, lines } = memoryLogger()
    const throttle = new LogThrottle({ max: 3, intervalMs: 60_000, clock })
    for (let i = 0; i < 100; i++) throttle.log(logger, 'warn', { i }, 'request rejected')
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2])

    await clock.advance(59_999)
    expect(lines).toHaveLength(3)
    await clock.advance(1)
    expect(lines).toHaveLength(4)
    expect(lines[3]).toMatchObject({
      level: 40,
      suppressed: 97,
      intervalMs: 60_000,
      msg: 'request rejected (97 more not logged)',
    })

    // a new interval starts afresh
    for (let i = 0; i < 5; i++) throttle.log(logger, 'warn', { i }, 'request rejected')
    expect(lines.slice(4).map((l) => l.i)).toEqual([0, 1, 2])
    throttle.close()
    expect(lines.at(-1)).toMatchObject({ suppressed: 2 })
    expect(clock.pending).toBe(0)
  })

  it('writes no summary when nothing was held back, and schedules no timer', async () => {
    const clock = new ManualClock()
    const { logger, lines } = memoryLogger()
    const throttle = new LogThrottle({ max: 3, clock })
    throttle.log(logger, 'info', {}, 'once')
    expect(clock.pending).toBe(0)
    await clock.advance(120_000)
    throttle.close()
    expect(lines.map((l) => l.msg)).toEqual(['once'])
  })

  it('counts each kind (logger, level, message) on its own', async () => {
    const clock = new ManualClock()
    const a = memoryLogger()
    const b = memoryLogger()
    const throttle = new LogThrottle({ max: 2, clock })
    for (let i = 0; i < 10; i++) {
      throttle.log(a.logger, 'warn', {}, 'bad signature')
      throttle.log(a.logger, 'warn', {}, 'replayed nonce')
      throttle.log(a.logger, 'info', {}, 'bad signature')
      throttle.log(b.logger, 'warn', {}, 'bad signature')
    }
    expect(a.lines).toHaveLength(6)
    expect(b.lines).toHaveLength(2)
    await clock.advance(60_000)
    expect(a.lines.slice(6).map((l) => [l.level, l.suppressed])).toEqual([
      [40, 8],
      [40, 8],
      [30, 8],
    ])
    expect(b.lines.slice(2).map((l) => l.suppressed)).toEqual([8])
  })

  it('reports a kind that started earlier when its own interval ends', async () => {
    const clock = new ManualClock()
    const { logger, lines } = memoryLogger()
    const throttle = new LogThrottle({ max: 1, intervalMs: 60_000, clock })
    throttle.log(logger, 'warn', {}, 'early') // window of 'early': 0-60 s
    await clock.advance(30_000)
    throttle.log(logger, 'warn', {}, 'late') // window of 'late': 30-90 s
    throttle.log(logger, 'warn', {}, 'late') // held back: a flush is due at 90 s
    throttle.log(logger, 'warn', {}, 'early') // held back: due at 60 s, earlier
    await clock.advance(30_000)
    expect(lines.map((l) => l.msg)).toEqual(['early', 'late', 'early (1 more not logged)'])
    await clock.advance(30_000)
    expect(lines.at(-1)?.msg).toBe('late (1 more not logged)')
    throttle.close()
  })

  it('wraps a logger for code that takes one: a flood of refused upgrades writes a few lines', async () => {
    const clock = new ManualClock()
    const { logger, lines } = memoryLogger()
    const throttle = new LogThrottle({ max: 10, clock })
    const wsLog = throttle.wrap(logger.child({ component: 'ws' }))
    for (let i = 0; i < 500; i++) wsLog.warn({ status: 403 }, 'websocket upgrade refused')
    expect(lines).toHaveLength(10)
    expect(lines[0]).toMatchObject({ component: 'ws', msg: 'websocket upgrade refused' })
    await clock.advance(60_000)
    expect(lines).toHaveLength(11)
    expect(lines[10]).toMatchObject({ component: 'ws', suppressed: 490 })
  })

  it('leaves the rest of a wrapped logger alone', () => {
    const { logger, lines } = memoryLogger()
    const wrapped = new LogThrottle({ max: 1 }).wrap(logger)
    expect(wrapped.level).toBe('trace')
    expect(wrapped.isLevelEnabled('debug')).toBe(true)
    wrapped.warn('plain message')
    wrapped.warn('plain message')
    wrapped.child({ component: 'x' }).warn('from a child')
    expect(lines.map((l) => l.msg)).toEqual(['plain message', 'from a child'])
  })
})
