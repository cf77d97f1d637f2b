import { describe, expect, it } from 'vitest'
import { TokenBucket } from '../../src/server/token-bucket'

function takeAll(bucket: TokenBucket): number {
  let taken = 0
  while (bucket.take()) taken++
  return taken
}

describe('TokenBucket', () => {
  it('gives a full burst, then refills at its rate and never beyond the burst', () => {
    let now = 1_000.4
    const bucket = new TokenBucket(10, 20, () => now)
    expect(takeAll(bucket)).toBe(20)
    now += 99
    expect(bucket.take()).toBe(false) // 0.99 of a token
    now += 1
    expect(bucket.take()).toBe(true) // 100 ms at 10/s: one token
    expect(bucket.take()).toBe(false)
    now += 550
    expect(takeAll(bucket)).toBe(5)
    now += 60_000
    expect(takeAll(bucket)).toBe(20)
  })

  it('keeps the part of a token it has earned', () => {
    let now = 0
    const bucket = new TokenBucket(2, 1, () => now)
    expect(bucket.take()).toBe(true)
    now += 300
    expect(bucket.take()).toBe(false) // 0.6
    now += 200
    expect(bucket.take()).toBe(true) // 0.6 + 0.4
  })

  it('works at fractional rates', () => {
    let now = 0
    const bucket = new TokenBucket(0.5, 1, () => now)
    expect(bucket.take()).toBe(true)
    now += 1_999
    expect(bucket.take()).toBe(false)
    now += 1
    expect(bucket.take()).toBe(true)
  })
})
