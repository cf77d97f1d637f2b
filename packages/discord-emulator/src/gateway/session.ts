import type { GatewayDispatchEvents } from 'discord-api-types/v10'
import { shardOf } from '../world/sharding.ts'

/** One buffered dispatch of a gateway session. */
export interface BufferedDispatch {
  s: number
  t: GatewayDispatchEvents
  d: unknown
}

/** Where a session sends its frames while a connection is attached. */
export interface SessionSink {
  sendDispatch(event: BufferedDispatch): void
}

/**
 * A gateway session: survives its connection for `resumeWindowMs`, numbers every dispatch with a
 * per-session `s` and keeps a bounded buffer so RESUME can replay what a client missed.
 */
export class GatewaySession {
  seq = 0
  sink: SessionSink | null = null
  expiry: NodeJS.Timeout | null = null
  readonly buffer: BufferedDispatch[] = []

  constructor(
    readonly id: string,
    readonly intents: number,
    readonly shard: readonly [number, number],
    private readonly bufferLimit: number,
  ) {}

  /** Whether a guild's events route to this session's shard (docs events/gateway "Sharding"). */
  owns(guildId: string): boolean {
    return shardOf(guildId, this.shard[1]) === this.shard[0]
  }

  /** Numbers and buffers a dispatch, and sends it if a connection is attached. */
  dispatch(t: GatewayDispatchEvents, d: unknown): void {
    const event = { s: ++this.seq, t, d }
    this.buffer.push(event)
    if (this.buffer.length > this.bufferLimit) this.buffer.shift()
    this.sink?.sendDispatch(event)
  }

  /** The dispatches after `seq`, or null when they are no longer all buffered (or seq is bogus). */
  missedSince(seq: number): BufferedDispatch[] | null {
    if (seq > this.seq || seq < 0) return null
    if (seq === this.seq) return []
    const first = this.buffer[0]
    if (!first || first.s > seq + 1) return null
    return this.buffer.filter((e) => e.s > seq)
  }

  clearExpiry(): void {
    if (this.expiry) clearTimeout(this.expiry)
    this.expiry = null
  }
}
