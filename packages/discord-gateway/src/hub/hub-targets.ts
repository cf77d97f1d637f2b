import type { Logger } from 'pino'
import { z } from 'zod'
import type { VoiceReadApi } from '../voice/voice-mirror'
import {
  createHubSender,
  type HubSender,
  type HubSenderOptions,
  type HubSenderStats,
} from './hub-sender'

const UrlSchema = z.url({ protocol: /^https?$/ })

/**
 * Parses `HUB_URL`: one web node's receiver URL, or several separated by commas (every
 * web node of a deployment needs the voice events). Blanks are ignored, duplicates
 * dropped. Throws a message naming the bad entry.
 */
export function parseHubUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
  if (urls.length === 0) throw new Error('HUB_URL names no URL')
  for (const url of urls) {
    if (!UrlSchema.safeParse(url).success) throw new Error(`HUB_URL: not an http(s) URL: ${url}`)
  }
  return [...new Set(urls)]
}

/** One sender per web node, driven as one. */
export interface HubFanout {
  start(): void
  stop(): Promise<void>
  /** Resolves when every node got everything queued so far (a node that is down keeps it pending). */
  flush(): Promise<void>
  /** Delivery statistics per URL. */
  stats(): { url: string; stats: HubSenderStats }[]
}

/**
 * Creates one {@link HubSender} per URL on the same feed. Each has its own queue, snapshot
 * and backoff, so a slow or unreachable node never delays the others, and a node that
 * comes back gets a snapshot of its own.
 */
export function createHubFanout(
  feed: VoiceReadApi,
  options: Omit<HubSenderOptions, 'url'> & { urls: string[]; logger?: Logger },
): HubFanout {
  const senders = options.urls.map((url) => ({
    url,
    sender: createHubSender(feed, {
      ...options,
      url,
      ...(options.logger ? { logger: options.logger.child({ hubUrl: url }) } : {}),
    }),
  }))
  return {
    start() {
      for (const { sender } of senders) sender.start()
    },
    async stop() {
      await Promise.all(senders.map(({ sender }) => sender.stop()))
    },
    async flush() {
      await Promise.all(senders.map(({ sender }) => sender.flush()))
    },
    stats: () => senders.map(({ url, sender }) => ({ url, stats: sender.stats() })),
  }
}
