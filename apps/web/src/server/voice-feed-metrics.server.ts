import type { ClusterStatus } from '@repo/discord-gateway'
import { Counter, Gauge, Registry } from 'prom-client'

/**
 * The clustered voice feed's figures in Prometheus' text format (several nodes on Redis): the
 * same facts /api/health shows (who leads, the fencing token, this node's stream lag, the last
 * handover), read from `status()` when scraped. A registry of its own, like the presence metrics.
 */
export class VoiceFeedMetrics {
  readonly registry = new Registry()

  constructor(status: () => ClusterStatus) {
    const registers = [this.registry]
    let current: ClusterStatus | null = null
    // One status() per scrape, shared by every metric below (they are collected in turn).
    const read = (): ClusterStatus => {
      if (!current) {
        current = status()
        queueMicrotask(() => {
          current = null
        })
      }
      return current
    }
    const gauge = (name: string, help: string, value: (s: ClusterStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(read()))
        },
      })
    // Counters whose total the feed keeps (they only grow while the process lives).
    const counter = (name: string, help: string, value: (s: ClusterStatus) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(value(read()))
        },
      })
    gauge(
      'voice_feed_degraded',
      '1 when this node reports degraded (see /api/health reasons)',
      (s) => (s.health === 'ok' ? 0 : 1),
    )
    gauge('voice_feed_leader_present', '1 while someone holds the gateway lease', (s) =>
      s.leader ? 1 : 0,
    )
    gauge(
      'voice_feed_no_leader_seconds',
      'How long nobody has held the gateway lease (0 while someone does)',
      (s) => (s.noLeaderSince === null ? 0 : (Date.now() - s.noLeaderSince) / 1000),
    )
    gauge('voice_feed_is_leader', '1 while this node leads the gateway', (s) =>
      s.isLeader ? 1 : 0,
    )
    gauge(
      'voice_feed_fencing_token',
      "The gateway leader's fencing token (0 without a leader)",
      (s) => s.fencingToken ?? 0,
    )
    gauge(
      'voice_feed_lag_entries',
      "Entries of the guild's voice stream this node has not applied yet",
      (s) => s.lag.entries,
    )
    gauge(
      'voice_feed_lag_seconds',
      'Age of the oldest voice stream entry this node has not applied yet',
      (s) => s.lag.ms / 1000,
    )
    gauge(
      'voice_feed_last_handover_timestamp_seconds',
      'When the latest gateway handover took the lease (Unix time; 0 if none)',
      (s) => (s.lastHandover ? s.lastHandover.at / 1000 : 0),
    )
    gauge(
      'voice_feed_last_handover_duration_seconds',
      'From taking the gateway lease to READY/RESUMED, in the latest handover',
      (s) => (s.lastHandover?.durationMs ?? 0) / 1000,
    )
    gauge(
      'voice_feed_last_handover_resumed',
      '1 when the latest handover resumed the Discord session, 0 when it identified again',
      (s) => (s.lastHandover?.mode === 'resumed' ? 1 : 0),
    )
    counter(
      'voice_feed_leader_changes_total',
      'Gateway leader changes (holder or token) this node has seen',
      (s) => s.leaderChanges,
    )
    counter(
      'voice_feed_resyncs_total',
      'Times this node reloaded the voice snapshot because the stream could not fill a gap',
      (s) => s.mirror.resyncs,
    )
    counter(
      'voice_feed_redis_errors_total',
      "Redis errors of this node's voice stream reader",
      (s) => s.mirror.errors,
    )
    counter(
      'voice_feed_leader_terms_total',
      'Times this node took the gateway lease',
      (s) => s.candidate?.terms ?? 0,
    )
    counter(
      'voice_feed_step_downs_total',
      'Times this node stepped down from the gateway',
      (s) => s.candidate?.stepDowns ?? 0,
    )
    counter(
      'voice_feed_fence_refusals_total',
      "Writes of this node's gateway refused by the fencing token",
      (s) => s.candidate?.fenceRefusals ?? 0,
    )
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics()
  }
}
