import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Why the server dropped a socket. */
export type DropReason =
  | 'slow_consumer'
  | 'rate_limited'
  | 'frame_too_large'
  | 'unsupported_version'
  | 'protocol_violation'
  | 'too_many_sockets'
  | 'ping_timeout'
  | 'shutting_down'
  | 'session_ended'

/** Latency percentiles over the most recent samples, in milliseconds. */
export interface LatencySummary {
  samples: number
  p50: number | null
  p95: number | null
  p99: number | null
}

/** A fixed-size ring of recent samples, for exact percentiles over a recent window. */
class RecentSamples {
  readonly #values: Float64Array
  #count = 0
  #next = 0
  constructor(size: number) {
    this.#values = new Float64Array(size)
  }
  add(value: number) {
    this.#values[this.#next] = value
    this.#next = (this.#next + 1) % this.#values.length
    if (this.#count < this.#values.length) this.#count++
  }
  summary(): LatencySummary {
    if (this.#count === 0) return { samples: 0, p50: null, p95: null, p99: null }
    const sorted = this.#values.slice(0, this.#count).sort()
    const at = (q: number) => {
      const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
      return Math.round(value * 1000) / 1000
    }
    return { samples: this.#count, p50: at(0.5), p95: at(0.95), p99: at(0.99) }
  }
}

/**
 * The presence layer's Prometheus metrics, in a registry of its own (so tests and the
 * twice-bundled production build never collide on the global registry).
 */
export class PresenceMetrics {
  readonly registry = new Registry()
  readonly #recent = new RecentSamples(2048)
  readonly latency = new Histogram({
    name: 'presence_gateway_to_socket_seconds',
    help: 'Time from gateway receipt of a Discord voice event to the write of its frame to a browser socket',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })
  readonly framesSent = new Counter({
    name: 'presence_frames_sent_total',
    help: 'Frames written to browser sockets, by frame type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  })
  readonly framesPublished = new Counter({
    name: 'presence_frames_published_total',
    help: 'Room stream frames published on the event bus',
    registers: [this.registry],
  })
  readonly socketsDropped = new Counter({
    name: 'presence_sockets_dropped_total',
    help: 'Sockets the server closed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly subscribes = new Counter({
    name: 'presence_subscribes_total',
    help: 'Room subscriptions by outcome: resume (replayed from history) or snapshot',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  })
  readonly resyncs = new Counter({
    name: 'presence_resyncs_total',
    help: 'Sockets the server brought back in step on its own (resume: replayed what a bus reconnect missed; snapshot: the room or voice stream restarted, or a publish failed)',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  })
  readonly clientErrors = new Counter({
    name: 'presence_client_errors_total',
    help: 'Error frames sent to browsers, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  })
  readonly sockets = new Gauge({
    name: 'presence_sockets',
    help: 'Open presence sockets',
    registers: [this.registry],
  })
  readonly subscriptions = new Gauge({
    name: 'presence_subscriptions',
    help: 'Active room subscriptions over all sockets',
    registers: [this.registry],
  })

  /** Records one gateway-to-socket latency, in milliseconds. */
  observeLatencyMs(ms: number) {
    const clamped = Math.max(ms, 0)
    this.latency.observe(clamped / 1000)
    this.#recent.add(clamped)
  }

  /** Percentiles of the most recent latency samples (ms). */
  latencySummary(): LatencySummary {
    return this.#recent.summary()
  }

  /** The Prometheus text exposition of every presence metric. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
