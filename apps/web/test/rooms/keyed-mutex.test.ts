import { describe, expect, it } from 'vitest'
import { KeyedMutex } from '../../src/features/rooms/keyed-mutex'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('KeyedMutex', () => {
  it('runs tasks of one key one at a time, in order', async () => {
    const mutex = new KeyedMutex()
    const log: string[] = []
    let active = 0
    const task = (name: string) => async () => {
      active++
      expect(active).toBe(1)
      log.push(`start ${name}`)
      await tick()
      log.push(`end ${name}`)
      active--
    }
    await Promise.all([
      mutex.run('u', task('a')),
      mutex.run('u', task('b')),
      mutex.run('u', task('c')),
    ])
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
    await tick()
    expect(mutex.size).toBe(0)
  })
  it('runs different keys concurrently and survives a failing task', async () => {
    const mutex = new KeyedMutex()
    const log: string[] = []
    const slow = mutex.run('a', async () => {
      log.push('a start')
      await tick()
      await tick()
      log.push('a end')
    })
    const fast = mutex.run('b', async () => {
      log.push('b')
    })
    await Promise.all([slow, fast])
    expect(log.indexOf('b')).toBeLessThan(log.indexOf('a end'))
    await expect(mutex.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    )
    await expect(mutex.run('a', async () => 'next')).resolves.toBe('next')
  })
})
