import { randomUUID } from 'node:crypto'
import type { RoomEventFrame } from '@repo/discord-integration/contracts'
import { Redis, type RedisOptions } from 'ioredis'
import type { RoomFrameBody } from '../../server/ports'
import {
  type BusFrame,
  classifyResume,
  DEFAULT_HISTORY_LIMITS,
  type EventBus,
  type HistoryLimits,
  type HistoryResult,
  type PublishOptions,
  type ReplayFrame,
  type StreamPosition,
} from './event-bus'
import { stampFrame, unstampedJson } from './frame-stamp'
import { PresenceError } from './presence-error'

/** Options of {@link createRedisEventBus}. */
export interface RedisEventBusOptions {
  /** A Redis URL (the bus owns its connections) or a client (the bus duplicates it for SUBSCRIBE). */
  redis: string | Redis
  /** With a URL: ioredis options its connections add (the Sentinel options: redisConnectionOptions). */
  redisOptions?: RedisOptions
  /** Prefix of every key and channel. @defaultValue 'tv:presence:' */
  keyPrefix?: string
  history?: Partial<HistoryLimits>
  /** Idle rooms' keys expire after this many seconds (their epoch then changes). @defaultValue 86400 */
  keyTtlSeconds?: number
  /** Clock for `ts` and history age. @defaultValue Date.now */
  now?: () => number
}

// Every stream operation first makes sure the room has an epoch. A missing epoch means the
// stream's history is gone (new room, expiry, eviction, flush): start a new life from seq 0.
const ENSURE_EPOCH = `
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[3], epoch, 'EX', ARGV[2])
  redis.call('DEL', KEYS[1], KEYS[2])
end
`

/**
 * KEYS: seq, hist, epoch[, dedupe]. ARGV: epoch candidate, ttl, unstamped json, max frames, channel.
 * With a dedupe key, a frame already published under it is not stamped again: its text is returned
 * with seq 0 as the marker. The message published is the epoch, a newline and the text (JSON has no raw newline), so
 * every subscriber knows which life of the room stream a seq belongs to.
 */
const PUBLISH_SCRIPT = `${ENSURE_EPOCH}
if KEYS[4] then
  local prior = redis.call('GET', KEYS[4])
  if prior then return {0, epoch, prior} end
end
local seq = redis.call('INCR', KEYS[1])
local text = '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2)
redis.call('RPUSH', KEYS[2], text)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[2])
redis.call('PUBLISH', ARGV[5], epoch .. '\\n' .. text)
if KEYS[4] then redis.call('SET', KEYS[4], text, 'EX', 120) end
return {seq, epoch, text}
`

/** KEYS: seq, hist, epoch. ARGV: epoch candidate, ttl, with history (1/0). */
const READ_SCRIPT = `${ENSURE_EPOCH}
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[3] == '1' then
  return {seq, epoch, redis.call('LRANGE', KEYS[2], 0, -1)}
end
return {seq, epoch, {}}
`

/**
 * The Redis event bus: a Lua script stamps each frame atomically (per-room INCR, a capped list
 * for history, PUBLISH for live delivery), so every process sharing the Redis sees one order.
 * Live delivery uses one SUBSCRIBE per room with local listeners; ioredis resubscribes after a
 * reconnect, and frames lost meanwhile show up as seq gaps that clients repair by resuming.
 */
export function createRedisEventBus(options: RedisEventBusOptions): EventBus {
  const limits = { ...DEFAULT_HISTORY_LIMITS, ...options.history }
  const prefix = options.keyPrefix ?? 'tv:presence:'
  const ttl = String(options.keyTtlSeconds ?? 86_400)
  const now = options.now ?? Date.now
  const ownsClient = typeof options.redis === 'string'
  const client =
    typeof options.redis === 'string'
      ? new Redis(options.redis, {
          ...options.redisOptions,
          maxRetriesPerRequest: 2,
          lazyConnect: false,
        })
      : options.redis
  const sub = client.duplicate()
  // A SUBSCRIBE acknowledged before ioredis finished its ready check can lose the messages that
  // follow (observed: ack while status 'connect', later messages never delivered): subscribe only
  // on a ready connection, and give up after a while so a subscriber is told instead of waiting.
  const subReady = (): Promise<void> =>
    sub.status === 'ready'
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            sub.off('ready', onReady)
            reject(new PresenceError('BUS_UNAVAILABLE', 'Redis subscriber not ready'))
          }, 5_000)
          const onReady = () => {
            clearTimeout(timer)
            resolve()
          }
          sub.once('ready', onReady)
        })
  const listeners = new Map<string, Set<(frame: BusFrame) => void>>()
  const subscribed = new Map<string, Promise<void>>()
  let closed = false

  const keys = (roomId: string) => [
    `${prefix}room:${roomId}:seq`,
    `${prefix}room:${roomId}:hist`,
    `${prefix}room:${roomId}:epoch`,
  ]
  const channel = (roomId: string) => `${prefix}room:${roomId}`
  const channelPrefix = `${prefix}room:`

  sub.on('message', (ch: string, message: string) => {
    if (!ch.startsWith(channelPrefix)) return
    const set = listeners.get(ch.slice(channelPrefix.length))
    if (!set || set.size === 0) return
    const cut = message.indexOf('\n')
    let busFrame: BusFrame
    try {
      const text = message.slice(cut + 1)
      busFrame = { frame: JSON.parse(text) as RoomEventFrame, text, epoch: message.slice(0, cut) }
    } catch {
      return // not ours: something else published under our prefix
    }
    if (cut <= 0) return
    for (const listener of set) {
      try {
        listener(busFrame)
      } catch {
        // A failing subscriber must not stop delivery to the others.
      }
    }
  })
  // Errors are retried by ioredis; swallow the event so an outage never crashes the process.
  sub.on('error', () => {})
  // After a reconnect ioredis subscribes the rooms again; whatever was published while the
  // connection was down never reaches us. A PING answered after those SUBSCRIBEs (one connection
  // answers in order) marks the moment from which delivery is whole again: then tell the
  // subscribers, who compare their position with the stream and catch up.
  const gapListeners = new Set<() => void>()
  let readyBefore = false
  sub.on('ready', () => {
    if (!readyBefore) {
      readyBefore = true
      return
    }
    sub.ping().then(
      () => {
        for (const listener of gapListeners) {
          try {
            listener()
          } catch {
            // One listener's failure must not starve the others.
          }
        }
      },
      () => {}, // the connection dropped again: its next 'ready' tells
    )
  })
  if (ownsClient) client.on('error', () => {})

  const read = async (roomId: string, withHistory: boolean) => {
    const result = (await client.eval(
      READ_SCRIPT,
      3,
      ...keys(roomId),
      randomUUID(),
      ttl,
      withHistory ? '1' : '0',
    )) as [number, string, string[]]
    return { seq: Number(result[0]), epoch: String(result[1]), texts: result[2] }
  }

  return {
    async publish(roomId: string, body: RoomFrameBody, publishOptions?: PublishOptions) {
      if (closed) throw new PresenceError('BUS_CLOSED', 'the event bus is closed')
      const ts = now()
      const dedupe = publishOptions?.dedupeKey
      const roomKeys = keys(roomId)
      if (dedupe !== undefined) roomKeys.push(`${prefix}room:${roomId}:dedupe:${dedupe}`)
      try {
        const result = (await client.eval(
          PUBLISH_SCRIPT,
          roomKeys.length,
          ...roomKeys,
          randomUUID(),
          ttl,
          unstampedJson(roomId, body, ts),
          String(limits.maxFrames),
          channel(roomId),
        )) as [number, string, string]
        const epoch = String(result[1])
        if (Number(result[0]) === 0) {
          return {
            frame: JSON.parse(result[2]) as RoomEventFrame,
            text: result[2],
            epoch,
            duplicate: true,
          }
        }
        return { frame: stampFrame(roomId, body, ts, Number(result[0])), text: result[2], epoch }
      } catch (error) {
        throw new PresenceError('BUS_UNAVAILABLE', 'could not publish to Redis', { cause: error })
      }
    },
    subscribe(roomId, listener) {
      let set = listeners.get(roomId)
      if (!set) {
        set = new Set()
        listeners.set(roomId, set)
        const ack = subReady()
          .then(() => sub.subscribe(channel(roomId)))
          .then(
            () => undefined,
            (error: unknown) => {
              throw new PresenceError('BUS_UNAVAILABLE', 'could not subscribe', { cause: error })
            },
          )
        ack.catch(() => {})
        subscribed.set(roomId, ack)
      }
      set.add(listener)
      const mine = set
      return {
        ready: subscribed.get(roomId) ?? Promise.resolve(),
        unsubscribe: () => {
          if (!mine.delete(listener) || mine.size > 0 || listeners.get(roomId) !== mine) return
          listeners.delete(roomId)
          subscribed.delete(roomId)
          if (!closed) sub.unsubscribe(channel(roomId)).catch(() => {})
        },
      }
    },
    async position(roomId): Promise<StreamPosition> {
      const { seq, epoch } = await read(roomId, false)
      return { seq, epoch }
    },
    async history(roomId, since, clientEpoch): Promise<HistoryResult> {
      const { seq, epoch, texts } = await read(roomId, true)
      if (clientEpoch !== undefined && clientEpoch !== epoch) {
        return { ok: false, epoch, position: seq, reason: 'epoch' }
      }
      const minTs = now() - limits.maxAgeMs
      const frames: ReplayFrame[] = []
      for (const text of texts) {
        const frame = JSON.parse(text) as RoomEventFrame
        if (frame.ts >= minTs) frames.push({ seq: frame.seq, type: frame.type, text })
      }
      // Age pruning can only remove a prefix: keep only the contiguous tail.
      const oldest = frames[0]?.seq ?? 0
      const verdict = classifyResume(since, seq, oldest)
      if (verdict !== 'ok') return { ok: false, epoch, position: seq, reason: verdict }
      return { ok: true, epoch, position: seq, frames: frames.filter((f) => f.seq > since) }
    },
    onGap(listener) {
      gapListeners.add(listener)
      return () => {
        gapListeners.delete(listener)
      }
    },
    async close() {
      if (closed) return
      closed = true
      listeners.clear()
      gapListeners.clear()
      sub.disconnect()
      if (ownsClient) client.disconnect()
    },
  }
}
