import type { SessionInfo } from '@discordjs/ws'
import type { GuildStore, ShardCursor } from '../guilds/guild-store'
import type { GuildPresence } from '../guilds/guild-voice'
import type { VoiceStoreState } from '../voice/voice-state-reducer'
import type { PersistedGateway, PersistedGatewayV2 } from './persisted-gateway'
import { persistVoiceState, restoreVoiceState } from './persisted-gateway'

/** What a feed starts from after a restart. */
export interface RestoredGuilds {
  readonly shards: { cursor: ShardCursor; session: SessionInfo | null }[]
  readonly guilds: { presence: GuildPresence; state: VoiceStoreState }[]
}

/**
 * The feed's state as one value (taken synchronously, so consistent): each shard's session only
 * when it is the session the shard's cursor reflects, at the cursor's sequence.
 */
export function toPersisted(
  shards: readonly { cursor: ShardCursor; session: SessionInfo | null }[],
  store: GuildStore,
): PersistedGatewayV2 {
  return {
    v: 2,
    savedAt: Date.now(),
    shards: shards.map(({ cursor, session }) => ({
      id: cursor.id,
      count: cursor.count,
      sessionId: cursor.sessionId,
      seq: cursor.seq,
      settled: cursor.settled,
      session:
        session && session.sessionId === cursor.sessionId
          ? {
              sessionId: session.sessionId,
              sequence: cursor.seq,
              resumeURL: session.resumeURL,
              shardId: session.shardId,
              shardCount: session.shardCount,
            }
          : null,
    })),
    guilds: store.entries().map(([id, entry]) => ({
      id,
      name: entry.name,
      available: entry.available,
      shardId: entry.shardId,
      voice: persistVoiceState(entry.state),
    })),
  }
}

/**
 * Rebuilds shards and guilds from a stored value. A version 1 value (one guild, written before
 * several guilds) becomes shard 0 of 1 holding that guild.
 */
export function fromPersisted(value: PersistedGateway): RestoredGuilds {
  if (value.v === 1) {
    const cursor: ShardCursor = {
      id: 0,
      count: 1,
      sessionId: value.voice.sessionId,
      seq: value.voice.seq,
      pending: new Set(),
      settled: value.voice.synced,
    }
    const session =
      value.session && value.session.sessionId === value.voice.sessionId
        ? { ...value.session, sequence: value.voice.seq }
        : null
    return {
      shards: [{ cursor, session }],
      guilds: [
        {
          presence: { id: value.guildId, name: '', available: true, shardId: 0 },
          state: restoreVoiceState(value.guildId, value.voice),
        },
      ],
    }
  }
  return {
    shards: value.shards.map((s) => ({
      cursor: {
        id: s.id,
        count: s.count,
        sessionId: s.sessionId,
        seq: s.seq,
        pending: new Set<string>(),
        settled: s.settled,
      },
      session:
        s.session && s.session.sessionId === s.sessionId ? { ...s.session, sequence: s.seq } : null,
    })),
    guilds: value.guilds.map((g) => ({
      presence: { id: g.id, name: g.name, available: g.available, shardId: g.shardId },
      state: restoreVoiceState(g.id, g.voice),
    })),
  }
}
