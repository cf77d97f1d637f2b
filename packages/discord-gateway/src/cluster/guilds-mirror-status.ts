import type { GuildPresence } from '../guilds/guild-voice'
import type { MirrorState, MirrorStatus } from './mirror-contract'

/** One guild as this node follows it. */
export interface GuildMirrorStatus extends GuildPresence {
  state: MirrorState
  ready: boolean
  feedSeq: number
  members: number
  lag: { entries: number; ms: number }
}

/** What {@link combineGuildStatuses} combines: the guilds mirror's own state and its mirrors'. */
export interface GuildStatusesInput {
  /** The guild list, sorted by id. */
  readonly presences: readonly GuildPresence[]
  /** Each guild's mirror status, by guild id. */
  readonly statuses: readonly (readonly [string, MirrorStatus])[]
  readonly stopped: boolean
  readonly registryRead: boolean
  readonly ready: boolean
  /** Errors of the guilds mirror itself (the registry and the shared XREAD). */
  readonly errors: number
  readonly lastError: { message: string; at: number } | null
}

const ORDER: MirrorState[] = ['stopped', 'stale', 'starting', 'following']

/** Per guild, and all guilds together in the single-mirror shape (worst state, sums, max lag). */
export function combineGuildStatuses(input: GuildStatusesInput): {
  mirror: MirrorStatus
  guilds: GuildMirrorStatus[]
} {
  const { statuses } = input
  const guilds: GuildMirrorStatus[] = input.presences.map((presence) => {
    const s = statuses.find(([id]) => id === presence.id)?.[1]
    return {
      ...presence,
      state: s?.state ?? 'starting',
      ready: s?.ready ?? false,
      feedSeq: s?.feedSeq ?? 0,
      members: s?.members ?? 0,
      lag: { entries: s?.lag.entries ?? 0, ms: s?.lag.ms ?? 0 },
    }
  })
  const all = statuses.map(([, s]) => s)
  const state: MirrorState = input.stopped
    ? 'stopped'
    : !input.registryRead || all.length === 0
      ? 'starting'
      : all.reduce<MirrorState>(
          (worst, s) => (ORDER.indexOf(s.state) < ORDER.indexOf(worst) ? s.state : worst),
          'following',
        )
  const lastErrors = [input.lastError, ...all.map((s) => s.lastError)].filter(
    (e): e is { message: string; at: number } => e !== null,
  )
  const first = all.length === 1 ? all[0] : undefined
  const mirror: MirrorStatus = {
    state,
    epoch: first?.epoch ?? null,
    lastId: first?.lastId ?? '0-0',
    feedSeq: all.reduce((n, s) => n + s.feedSeq, 0),
    ready: input.ready,
    members: all.reduce((n, s) => n + s.members, 0),
    lag: {
      entries: all.reduce((n, s) => n + s.lag.entries, 0),
      ms: all.reduce((n, s) => Math.max(n, s.lag.ms), 0),
      checkedAt: all.reduce<number | null>(
        (n, s) =>
          s.lag.checkedAt !== null && (n === null || s.lag.checkedAt > n) ? s.lag.checkedAt : n,
        null,
      ),
    },
    resyncs: all.reduce((n, s) => n + s.resyncs, 0),
    lastResync: all.reduce<MirrorStatus['lastResync']>(
      (n, s) => (s.lastResync && (!n || s.lastResync.at > n.at) ? s.lastResync : n),
      null,
    ),
    invalid: all.reduce((n, s) => n + s.invalid, 0),
    errors: input.errors + all.reduce((n, s) => n + s.errors, 0),
    lastError: lastErrors.reduce<MirrorStatus['lastError']>(
      (n, e) => (!n || e.at > n.at ? e : n),
      null,
    ),
  }
  return { mirror, guilds }
}
