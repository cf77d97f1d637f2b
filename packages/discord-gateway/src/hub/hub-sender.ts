import type { VoiceEvent } from '@repo/discord-integration/contracts'
import { PROTOCOL_VERSION } from '@repo/discord-integration/contracts'
import type { Logger } from 'pino'
import type { BackoffOptions } from '../supervision/backoff'
import { fullJitterDelay, sleep } from '../supervision/backoff'
import type { VoiceReadApi } from '../voice/voice-mirror'
import type { HubMessage } from './hub-protocol'
import { signHubRequest } from './sign'

/** Options of {@link createHubSender}. */
export interface HubSenderOptions {
  /** The receiver's endpoint. */
  url: string
  secret: string
  guildId: string
  logger?: Logger
  backoff?: BackoffOptions
  /** Most events per request. @defaultValue 100 */
  batchSize?: number
  /**
   * Events kept while the receiver is unreachable. Past this the queue is dropped
   * and a fresh snapshot is sent instead (it carries the same truth in less space).
   * @defaultValue 10000
   */
  maxQueue?: number
  fetch?: typeof fetch
  random?: () => number
}

/** Delivery statistics of a sender. */
export interface HubSenderStats {
  delivered: number
  snapshots: number
  failures: number
  pending: number
  lastDeliveredFeedSeq: number
}

/** Pushes a feed's events to a hub receiver, in order, one request at a time. */
export interface HubSender {
  start(): void
  stop(): Promise<void>
  /** Resolves when everything queued so far has been delivered. */
  flush(): Promise<void>
  stats(): HubSenderStats
}

/**
 * Creates a sender: a full snapshot first and whenever the receiver answers 409 (gap), then events in
 * feedSeq order in batches; network errors and 5xx/401/400 are retried with capped, jittered backoff.
 */
export function createHubSender(feed: VoiceReadApi, options: HubSenderOptions): HubSender {
  const doFetch = options.fetch ?? fetch
  const batchSize = options.batchSize ?? 100
  const maxQueue = options.maxQueue ?? 10_000
  const queue: VoiceEvent[] = []
  let needSnapshot = true
  let delivered = 0
  let lastDelivered = 0
  let snapshots = 0
  let failures = 0
  let running = false
  let unsubscribe: (() => void) | null = null
  let wake: (() => void) | null = null
  let loop: Promise<void> = Promise.resolve()
  const idleWaiters: (() => void)[] = []
  const controller = new AbortController()

  const post = async (message: HubMessage): Promise<number> => {
    const body = JSON.stringify(message)
    const response = await doFetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signHubRequest(options.secret, body) },
      body,
      signal: controller.signal,
    })
    await response.body?.cancel()
    return response.status
  }

  const step = async (): Promise<boolean> => {
    if (needSnapshot) {
      const snap = feed.snapshot()
      const status = await post({
        v: PROTOCOL_VERSION,
        kind: 'snapshot',
        ...snap,
        guildId: options.guildId,
      })
      if (status !== 204 && status !== 200) throw new Error(`snapshot rejected with ${status}`)
      needSnapshot = false
      snapshots++
      lastDelivered = snap.feedSeq
      while (queue.length > 0 && (queue[0]?.feedSeq ?? 0) <= snap.feedSeq) queue.shift()
      return true
    }
    if (queue.length === 0) return false
    const batch = queue.slice(0, batchSize)
    const status = await post({
      v: PROTOCOL_VERSION,
      kind: 'events',
      guildId: options.guildId,
      events: batch,
    })
    if (status === 409) {
      options.logger?.warn(
        { from: batch[0]?.feedSeq },
        'hub receiver reported a gap; sending a snapshot',
      )
      needSnapshot = true
      return true
    }
    if (status !== 204 && status !== 200) throw new Error(`events rejected with ${status}`)
    queue.splice(0, batch.length)
    delivered += batch.length
    lastDelivered = batch.at(-1)?.feedSeq ?? lastDelivered
    return true
  }

  const run = async (): Promise<void> => {
    let attempt = 0
    while (running) {
      try {
        const worked = await step()
        attempt = 0
        if (!worked) {
          for (const resolve of idleWaiters.splice(0)) resolve()
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = null
        }
      } catch (error) {
        if (!running) return
        failures++
        attempt++
        const delay = fullJitterDelay(
          attempt,
          options.backoff ?? { baseMs: 200, maxMs: 10_000 },
          options.random,
        )
        options.logger?.warn({ err: error, delayMs: delay }, 'hub delivery failed; retrying')
        try {
          await sleep(delay, controller.signal)
        } catch {
          return
        }
      }
    }
  }

  return {
    start() {
      if (running) return
      running = true
      unsubscribe = feed.subscribe((event) => {
        if (queue.length >= maxQueue) {
          queue.length = 0
          needSnapshot = true
        }
        queue.push(event)
        wake?.()
      })
      loop = run()
    },
    async stop() {
      running = false
      unsubscribe?.()
      controller.abort()
      wake?.()
      await loop
    },
    flush() {
      if (!needSnapshot && queue.length === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve)
        wake?.()
      })
    },
    stats: () => ({
      delivered,
      snapshots,
      failures,
      pending: queue.length,
      lastDeliveredFeedSeq: lastDelivered,
    }),
  }
}
