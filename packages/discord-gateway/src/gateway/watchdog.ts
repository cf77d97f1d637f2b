import type { Clock } from '../supervision/clock'

/** What the {@link SilentSocketWatchdog} needs. */
export interface WatchdogOptions {
  clock: Clock
  /** Silence longer than this many heartbeat intervals counts as a dead socket. */
  intervals: number
  /** The interval assumed until one has been measured (ms). */
  defaultHeartbeatMs: number
  /** The socket went silent; called once per socket (watching resumes at the next HELLO). */
  onSilent(silentForMs: number, limitMs: number): void
}

/**
 * Catches a gateway socket on which nothing arrives any more: no dispatch and no heartbeat ACK
 * for `intervals` heartbeat intervals (discordjs/discord.js#10174: ACKs, then silence, and the
 * shard never resumes). @discordjs/ws's own zombie check needs its heartbeat timer to run; this
 * one does not.
 *
 * The heartbeat interval is measured, not read. @discordjs/ws 2.0.4 takes `heartbeat_interval`
 * from HELLO, but its Hello event has no payload and the number appears only in a debug message,
 * whose wording is not an API. What it does report is HeartbeatComplete `{heartbeatAt}` for every
 * acknowledged beat, and after the first (jittered) beat it beats on a `setInterval` of exactly
 * `heartbeat_interval`. Two acknowledged beats on one socket are therefore one interval apart (a
 * beat whose ACK is missing ends the socket as a zombie, so none is skipped). A beat Discord asks
 * for (op 1) falls between two regular ones and only makes a gap shorter, and an event-loop stall
 * only makes one longer, so the widest gap on the socket is the interval, never less: the watchdog
 * can be late by a stall but does not fire early.
 */
export class SilentSocketWatchdog {
  readonly #options: WatchdogOptions
  #timer: NodeJS.Timeout | null = null
  #watching = false
  #lastActivity = 0
  #measuredMs: number | null = null
  #lastBeatAt: number | null = null
  #widestGap = 0

  constructor(options: WatchdogOptions) {
    this.#options = options
  }

  /** The heartbeat interval measured on the current or last socket; null before two ACKed beats. */
  get heartbeatIntervalMs(): number | null {
    return this.#measuredMs
  }

  /** Silence longer than this forces a resume (ms). */
  get limitMs(): number {
    return this.#options.intervals * (this.#measuredMs ?? this.#options.defaultHeartbeatMs)
  }

  start(): void {
    if (!this.#timer) this.#schedule()
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#watching = false
  }

  /** A socket said HELLO: watch it from now on. */
  onHello(): void {
    this.#watching = true
    this.#lastActivity = this.#options.clock.now()
    this.#lastBeatAt = null
    this.#widestGap = 0
  }

  /** The socket is gone: nothing to watch until the next HELLO. */
  disarm(): void {
    this.#watching = false
  }

  /** Something arrived on the socket (a dispatch). */
  onActivity(): void {
    this.#lastActivity = this.#options.clock.now()
  }

  /** A heartbeat was acknowledged; `heartbeatAt` is when the library sent it (epoch ms). */
  onHeartbeatAck(heartbeatAt: number): void {
    this.onActivity()
    if (this.#lastBeatAt !== null && heartbeatAt > this.#lastBeatAt) {
      this.#widestGap = Math.max(this.#widestGap, heartbeatAt - this.#lastBeatAt)
      const changed = this.#widestGap !== this.#measuredMs
      this.#measuredMs = this.#widestGap
      // check at the pace of the measured interval from now on, not the assumed one
      if (changed && this.#timer) {
        clearTimeout(this.#timer)
        this.#schedule()
      }
    }
    this.#lastBeatAt = heartbeatAt
  }

  #schedule(): void {
    const periodMs = Math.max(
      50,
      Math.floor((this.#measuredMs ?? this.#options.defaultHeartbeatMs) / 4),
    )
    this.#timer = setTimeout(() => {
      this.#check()
      if (this.#timer) this.#schedule()
    }, periodMs).unref()
  }

  #check(): void {
    if (!this.#watching) return
    const silentForMs = this.#options.clock.now() - this.#lastActivity
    const limitMs = this.limitMs
    if (silentForMs <= limitMs) return
    this.#watching = false
    this.#options.onSilent(silentForMs, limitMs)
  }
}
