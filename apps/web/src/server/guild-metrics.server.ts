import { Gauge, Registry } from 'prom-client'
import type { GuildHealth, ShardHealth } from './runtime-status'

/**
 * The per-guild and per-shard figures in Prometheus' text format, read from the same facts as
 * /api/health when scraped: each guild's open rooms, free capacity, whether it takes new rooms and
 * whether the gateway has it available; each shard's guilds and whether it is ready. A registry of
 * its own, like the presence metrics.
 */
export class GuildMetrics {
  readonly registry = new Registry()

  constructor(read: () => { guilds: GuildHealth[]; shards: ShardHealth[] }) {
    const registers = [this.registry]
    let current: ReturnType<typeof read> | null = null
    // One reading per scrape, shared by every metric below (they are collected in turn).
    const facts = () => {
      if (!current) {
        current = read()
        queueMicrotask(() => {
          current = null
        })
      }
      return current
    }
    const perGuild = (name: string, help: string, value: (g: GuildHealth) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['guild', 'pool'],
        registers,
        collect() {
          this.reset()
          for (const guild of facts().guilds) {
            this.set({ guild: guild.id, pool: guild.inPool ? '1' : '0' }, value(guild))
          }
        },
      })
    perGuild('guild_rooms', 'Open rooms in the guild', (g) => g.rooms)
    perGuild(
      'guild_free_rooms',
      'Rooms that still fit in the guild (Discord: 500 channels, 50 per category)',
      (g) => g.freeRooms,
    )
    perGuild('guild_free_channels', 'Channels the guild can still take', (g) => g.freeChannels)
    perGuild('guild_placeable', '1 while new rooms may go in the guild', (g) =>
      g.placeable ? 1 : 0,
    )
    perGuild(
      'guild_available',
      '1 while the bot is in the guild and Discord has it available (0: outage or removed)',
      (g) => (g.state === 'available' || g.state === 'unknown' ? 1 : 0),
    )
    const perShard = (name: string, help: string, value: (s: ShardHealth) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['shard'],
        registers,
        collect() {
          this.reset()
          for (const shard of facts().shards) this.set({ shard: String(shard.id) }, value(shard))
        },
      })
    perShard('gateway_shard_guilds', 'Guilds on the gateway shard', (s) => s.guilds)
    perShard('gateway_shard_ready', '1 while the gateway shard is ready', (s) =>
      s.state === 'ready' || s.state === 'ok' ? 1 : 0,
    )
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }
}
