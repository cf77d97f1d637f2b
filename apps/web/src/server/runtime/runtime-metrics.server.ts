import type { ClusteredVoiceFeed } from '@repo/discord-gateway'
import { GuildMetrics } from '../guild-metrics.server'
import { runtimeHealth } from '../runtime-status'
import { VoiceFeedMetrics } from '../voice-feed-metrics.server'
import type { Runtime } from './runtime'

/**
 * The runtime's figures for /metrics beside the presence ones: per guild and per shard (the facts
 * of /api/health's `guilds` and `shards`, read from the runtime once built), and with `cluster`
 * the clustered voice feed's.
 */
export function runtimeMetrics(
  cluster: ClusteredVoiceFeed | null,
  runtime: () => Runtime,
): { feedMetrics: VoiceFeedMetrics | null; guildMetrics: GuildMetrics } {
  return {
    feedMetrics: cluster ? new VoiceFeedMetrics(() => cluster.status()) : null,
    guildMetrics: new GuildMetrics(() => {
      const health = runtimeHealth(runtime())
      return { guilds: health.guilds, shards: health.shards }
    }),
  }
}
