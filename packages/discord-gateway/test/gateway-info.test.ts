import type { REST } from '@discordjs/rest'
import { describe, expect, it } from 'vitest'
import { fetchGatewayInfoWithBackoff } from '../src/gateway/gateway-info'
import { DEFAULT_BACKOFF } from '../src/supervision/backoff'
import { manualClock } from './support/manual-clock'

const INFO = {
  url: 'ws://127.0.0.1:1',
  shards: 1,
  session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
}

/** A REST whose GET fails `failures` times, then answers. */
function flakyRest(failures: number): { rest: REST; calls: string[] } {
  const calls: string[] = []
  const rest = {
    async get(route: string) {
      calls.push(route)
      if (calls.length <= failures) throw new Error(`down ${calls.length}`)
      return INFO
    },
  } as unknown as REST
  return { rest, calls }
}

describe('fetchGatewayInfoWithBackoff', () => {
  it('retries GET /gateway/bot with the gateway backoff until it answers', async () => {
    const { rest, calls } = flakyRest(3)
    const { clock, sleeps } = manualClock()
    const retries: [number, number][] = []
    const info = await fetchGatewayInfoWithBackoff({
      rest,
      clock,
      backoff: DEFAULT_BACKOFF,
      random: () => 0.5,
      signal: new AbortController().signal,
      onRetry: (_error, retry, delayMs) => retries.push([retry, delayMs]),
    })
    expect(info).toEqual(INFO)
    expect(calls).toEqual(['/gateway/bot', '/gateway/bot', '/gateway/bot', '/gateway/bot'])
    expect(sleeps).toEqual([500, 1_000, 2_000])
    expect(retries).toEqual([
      [1, 500],
      [2, 1_000],
      [3, 2_000],
    ])
  })

  it('stops retrying when aborted', async () => {
    const { rest, calls } = flakyRest(Number.POSITIVE_INFINITY)
    const { clock } = manualClock()
    const controller = new AbortController()
    const fetching = fetchGatewayInfoWithBackoff({
      rest,
      clock,
      backoff: DEFAULT_BACKOFF,
      random: () => 0.5,
      signal: controller.signal,
      onRetry: (_error, retry) => {
        if (retry === 2) controller.abort(new Error('stopped'))
      },
    })
    await expect(fetching).rejects.toThrow('stopped')
    expect(calls).toHaveLength(2)
  })
})
