import { ROOM_CLOSING_WARNING_MS, ROOM_IDLE_MS } from '@repo/discord-integration/contracts'
import { MemoryAttemptLimiter } from '../../server/attempt-limiter'
import { CategoryAllocator, ROOM_CATEGORY_PREFIX } from './category-allocator.server'
import { PoolPlacement } from './guild-placement.server'
import { HostCommands } from './host-commands.server'
import { KeyedMutex } from './keyed-mutex'
import { LifecycleRunner } from './lifecycle-runner.server'
import { ProfileSync } from './profile-sync.server'
import { RoomCommands } from './room-commands.server'
import { CachedRoomDirectory } from './room-directory.server'
import { RoomInvites } from './room-invites.server'
import { DEFAULT_TIMING } from './room-lifecycle'
import { RoomOps } from './room-ops.server'
import { RoomReconciler } from './room-reconciler.server'
import {
  CODE_ATTEMPTS_PER_ADDRESS,
  CODE_ATTEMPTS_PER_USER,
  MAX_ROOMS_PER_OWNER,
  type RoomServiceOptions,
} from './room-service-options'
import { RoomSweeper } from './room-sweeper.server'
import { DEFAULT_SEAT_TIMING } from './seat-holds'
import { SeatKeeper } from './seat-keeper.server'
import { WatchCommands } from './watch-commands.server'

/** The parts RoomService puts its methods on, wired to one another. */
export interface RoomParts {
  directory: CachedRoomDirectory
  lifecycle: LifecycleRunner
  commands: RoomCommands
  host: HostCommands
  watch: WatchCommands
  sweeper: RoomSweeper
  reconciler: RoomReconciler
  categories: CategoryAllocator
}

/** Builds the room parts from RoomService's options (defaults filled in here). */
export function buildRoomParts(options: RoomServiceOptions): RoomParts {
  const { store, discord, voice, events, clock, logger } = options
  const isLeader = options.isLeader ?? (() => true)
  const mutex = new KeyedMutex()
  const directory = new CachedRoomDirectory({ store, logger })
  const lifecycle = new LifecycleRunner({
    store,
    directory,
    discord,
    events,
    clock,
    logger,
    timing: {
      ...DEFAULT_TIMING,
      idleMs: options.idleMs ?? ROOM_IDLE_MS,
      warningMs: options.warningMs ?? ROOM_CLOSING_WARNING_MS,
    },
  })
  const categoryPrefix = options.categoryPrefix ?? ROOM_CATEGORY_PREFIX
  const categories = new CategoryAllocator({
    store,
    discord,
    limits: {
      channelsPerCategory: options.channelsPerCategory ?? 50,
      guildChannelLimit: options.guildChannelLimit ?? 500,
    },
    categoryPrefix,
    ...(options.categoryName ? { categoryName: options.categoryName } : {}),
  })
  const pool = new PoolPlacement({
    pool: options.pool,
    // From memory (the open rooms, categories as last read): a preference only, since the
    // category allocator decides under the guild's lock from the store.
    usage: async (guildIds) => categories.usageNow(guildIds, roomsPerGuild(directory)),
    ...(options.placeable ? { placeable: options.placeable } : {}),
  })
  const links = { publicUrl: options.publicUrl, discordWebUrl: options.discordWebUrl }
  const ops = new RoomOps({ store, directory, discord, voice, events, logger, links })
  const invites = new RoomInvites({
    store,
    tokens: options.invites,
    watchTokens: options.invites.forKind('watch'),
    directory,
    clock,
  })
  const commands = new RoomCommands({
    store,
    discord,
    clock,
    logger,
    directory,
    lifecycle,
    mutex,
    ops,
    invites,
    categories,
    placement: options.placement ? options.placement(pool) : pool,
    links,
    maxRoomsPerOwner: options.maxRoomsPerOwner ?? MAX_ROOMS_PER_OWNER,
    codeAttempts: options.codeAttempts ?? {
      perUser: new MemoryAttemptLimiter(CODE_ATTEMPTS_PER_USER, { now: () => clock.now() }),
      perAddress: new MemoryAttemptLimiter(CODE_ATTEMPTS_PER_ADDRESS, { now: () => clock.now() }),
    },
  })
  const host = new HostCommands({ store, ops, mutex, logger })
  const watch = new WatchCommands({ store, discord, invites, ops, mutex, clock, logger, links })
  const voiceReady = options.voiceReady ?? (() => true)
  const seats = options.viewers
    ? new SeatKeeper({
        store,
        directory,
        discord,
        voice,
        viewers: options.viewers,
        ops,
        clock,
        logger,
        timing: { ...DEFAULT_SEAT_TIMING, ...options.seatTiming },
        isLeader,
        voiceReady,
      })
    : null
  const sweeper = new RoomSweeper({
    store,
    directory,
    lifecycle,
    voice,
    events,
    clock,
    logger,
    voiceReady,
    isLeader,
    activityFlushMs: options.activityFlushMs ?? 5_000,
    seats,
    profiles: new ProfileSync({ store, directory, ops, logger }),
  })
  const reconciler = new RoomReconciler({
    store,
    discord,
    categories,
    guilds: () => options.pool,
    ...(options.reachable ? { reachable: options.reachable } : {}),
    lifecycle,
    mutex,
    clock,
    logger,
    categoryPrefix,
    isLeader,
    orphanGraceMs: options.orphanGraceMs ?? 0,
  })
  return { directory, lifecycle, commands, host, watch, sweeper, reconciler, categories }
}

/** Open rooms per guild, from the directory. */
export function roomsPerGuild(directory: CachedRoomDirectory): Map<string, number> {
  const counts = new Map<string, number>()
  for (const room of directory.rooms()) {
    counts.set(room.guildId, (counts.get(room.guildId) ?? 0) + 1)
  }
  return counts
}
