/** Connection states of the supervised gateway (string values for readable logs). */
export type GatewayState =
  | 'idle'
  | 'connecting'
  | 'ready'
  | 'resuming'
  | 'reconnecting'
  | 'backing_off'
  | 'stopped'

/** Identify quota as last reported by GET /gateway/bot (and counted down locally). */
export interface IdentifyBudget {
  remaining: number
  total: number
  /** Epoch ms when the quota resets. */
  resetAt: number
}

/** A health snapshot of the gateway connection. */
export interface GatewayStatus {
  state: GatewayState
  /** Epoch ms of the last state change. */
  since: number
  lastReadyAt: number | null
  lastResumedAt: number | null
  /** Last heartbeat round trip (ms). */
  heartbeatLatencyMs: number | null
  /** The heartbeat interval measured on the socket (ms; HELLO's heartbeat_interval), null before two ACKs. */
  heartbeatIntervalMs: number | null
  /** Closes/forced reconnects since start. */
  reconnects: number
  identifies: number
  identifyBudget: IdentifyBudget | null
  /** Dispatches received (including duplicates and other guilds). */
  eventsProcessed: number
  /** Domain events emitted. */
  voiceEventsEmitted: number
  lastError: { message: string; at: number } | null
  /** Set when an operator must act (fatal close code, identify budget breaker). */
  alert: { reason: string; at: number } | null
  /** Why the feed stopped, when state is 'stopped'. */
  stoppedReason: string | null
}

/** A status change as delivered to `onStatus` listeners. */
export interface StatusChange {
  from: GatewayState
  to: GatewayState
  status: GatewayStatus
}

/** Holds the status; `setState` is its only state writer and emits {from, to}. */
export class StatusTracker {
  #current: GatewayStatus
  readonly #listeners = new Set<(change: StatusChange) => void>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
    this.#current = {
      state: 'idle',
      since: now(),
      lastReadyAt: null,
      lastResumedAt: null,
      heartbeatLatencyMs: null,
      heartbeatIntervalMs: null,
      reconnects: 0,
      identifies: 0,
      identifyBudget: null,
      eventsProcessed: 0,
      voiceEventsEmitted: 0,
      lastError: null,
      alert: null,
      stoppedReason: null,
    }
  }

  /** A copy of the current status. */
  get(): GatewayStatus {
    return structuredClone(this.#current)
  }

  get state(): GatewayState {
    return this.#current.state
  }

  /** Changes the state; returns the change or null when the state was already `to`. */
  setState(to: GatewayState): StatusChange | null {
    const from = this.#current.state
    if (from === to) return null
    if (from === 'stopped') return null
    this.#current.state = to
    this.#current.since = this.#now()
    const change = { from, to, status: this.get() }
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch {
        // a listener's failure must not break the connection
      }
    }
    return change
  }

  /** Updates non-state fields. */
  patch(update: Partial<Omit<GatewayStatus, 'state' | 'since'>>): void {
    Object.assign(this.#current, update)
  }

  count(
    field: 'reconnects' | 'identifies' | 'eventsProcessed' | 'voiceEventsEmitted',
    by = 1,
  ): void {
    this.#current[field] += by
  }

  onChange(listener: (change: StatusChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** From least to most ready: a feed of several shards shows its least ready shard's state. */
const STATE_RANK: readonly GatewayState[] = [
  'stopped',
  'backing_off',
  'reconnecting',
  'connecting',
  'resuming',
  'idle',
  'ready',
]

/**
 * One status for several shards: the least ready shard's state (and its `since`,
 * `stoppedReason`), counters summed, the latest instants and errors, the highest latency, the
 * lowest identify budget, the first alert. One shard's status is returned as it is.
 */
export function combineStatus(statuses: readonly GatewayStatus[]): GatewayStatus {
  const [first, ...rest] = statuses
  if (!first) return new StatusTracker().get()
  if (rest.length === 0) return first
  const worst = statuses.reduce((a, b) =>
    STATE_RANK.indexOf(b.state) < STATE_RANK.indexOf(a.state) ? b : a,
  )
  const max = (values: (number | null)[]): number | null => {
    const known = values.filter((v): v is number => v !== null)
    return known.length === 0 ? null : Math.max(...known)
  }
  const sum = (pick: (s: GatewayStatus) => number) => statuses.reduce((n, s) => n + pick(s), 0)
  const latest = <T extends { at: number }>(values: (T | null)[]): T | null =>
    values.reduce<T | null>((a, b) => (b && (!a || b.at > a.at) ? b : a), null)
  const budgets = statuses.map((s) => s.identifyBudget).filter((b) => b !== null)
  return {
    state: worst.state,
    since: worst.since,
    lastReadyAt: max(statuses.map((s) => s.lastReadyAt)),
    lastResumedAt: max(statuses.map((s) => s.lastResumedAt)),
    heartbeatLatencyMs: max(statuses.map((s) => s.heartbeatLatencyMs)),
    heartbeatIntervalMs: max(statuses.map((s) => s.heartbeatIntervalMs)),
    reconnects: sum((s) => s.reconnects),
    identifies: sum((s) => s.identifies),
    identifyBudget: budgets.reduce<IdentifyBudget | null>(
      (a, b) => (!a || b.remaining < a.remaining ? b : a),
      null,
    ),
    eventsProcessed: sum((s) => s.eventsProcessed),
    voiceEventsEmitted: sum((s) => s.voiceEventsEmitted),
    lastError: latest(statuses.map((s) => s.lastError)),
    alert: statuses.find((s) => s.alert)?.alert ?? null,
    stoppedReason: worst.stoppedReason,
  }
}
