import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EmulatorOptions, emulatorEnv, startEmulator } from '@repo/discord-emulator'
import {
  createVoiceFeed,
  MemorySessionStore,
  type OneGuildView,
  oneGuildView,
  type VoiceFeed,
} from '@repo/discord-gateway'
import { createDiscordRest, type DiscordRest } from '@repo/discord-integration'
import pino from 'pino'
import { RestDiscordRooms } from '../../src/features/rooms/discord-rooms.server'
import { FileRoomStore } from '../../src/features/rooms/file-room-store.server'
import { InviteTokens } from '../../src/features/rooms/invite-token.server'
import { RoomService, type RoomServiceOptions } from '../../src/features/rooms/room-service.server'
import { parseConfig, type ServerConfig } from '../../src/server/config.server'
import type { Actor, RoomEvents, RoomFrameBody } from '../../src/server/ports'
import { ManualClock } from '../support/manual-clock'

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
export const SECRET = 's'.repeat(48)
export const PUBLIC_URL = 'http://127.0.0.1:3999'

/** RoomEvents that records what was published and lets tests set viewer counts. */
export class RecordingEvents implements RoomEvents {
  readonly published: { roomId: string; frame: RoomFrameBody }[] = []
  readonly viewers = new Map<string, number>()
  publish(roomId: string, frame: RoomFrameBody): void {
    this.published.push({ roomId, frame })
  }
  viewerCount(roomId: string): number {
    return this.viewers.get(roomId) ?? 0
  }
  types(roomId: string): string[] {
    return this.published.filter((p) => p.roomId === roomId).map((p) => p.frame.type)
  }
}

export type Emulator = Awaited<ReturnType<typeof startEmulator>>

/**
 * A server configuration pointing at the emulator, as `pnpm dev` would make it: the app's OAuth
 * redirect (`${PUBLIC_URL}/auth/callback`) is registered with the emulator's application too, so
 * the setup checks pass. A test of the redirect check itself passes `redirectRegistered: false`.
 */
export function emulatorConfig(
  emu: Emulator,
  settings: { DATA_DIR: string } & Record<string, string>,
  { redirectRegistered = true }: { redirectRegistered?: boolean } = {},
): ServerConfig {
  const config = parseConfig({
    ...emulatorEnv(emu),
    SESSION_SECRET: 'r'.repeat(40),
    PUBLIC_URL: 'http://127.0.0.1:3998',
    LOG_LEVEL: 'silent',
    ...settings,
  })
  if (redirectRegistered) registerRedirect(emu, config.PUBLIC_URL)
  return config
}

/** Adds `${publicUrl}/auth/callback` to the emulator application's registered redirects. */
export function registerRedirect(emu: Emulator, publicUrl: string): void {
  const redirect = `${publicUrl}/auth/callback`
  const { redirectUris } = emu.control.state().application
  if (!redirectUris.includes(redirect)) {
    emu.control.setApplication({ redirectUris: [...redirectUris, redirect] })
  }
}

/** One emulator, one voice feed and one REST instance shared by a test file. */
export interface World {
  emu: Emulator
  rest: DiscordRest
  /** The feed's view of the emulator's default guild. */
  feed: OneGuildView
  /** The feed itself: voice in every guild of the emulator, and their changes. */
  voice: VoiceFeed
  dir: string
  discord: RestDiscordRooms
  close(): Promise<void>
}

export async function startWorld(
  options: Pick<EmulatorOptions, 'oauthAccessTokenTtlSeconds' | 'rateLimits'> = {},
): Promise<World> {
  const emu = await startEmulator({ port: 0, ...options })
  const rest = createDiscordRest({ api: emu.restBase, token: emu.botToken })
  const feed = createVoiceFeed({
    token: emu.botToken,
    apiUrl: emu.restBase,
    sessionStore: new MemorySessionStore(),
    logger,
  })
  await feed.start()
  await feed.ready(10_000)
  const dir = await mkdtemp(join(tmpdir(), 'tv-rooms-it-'))
  const discord = new RestDiscordRooms({ rest, guildId: emu.guildId, logger })
  return {
    emu,
    rest,
    feed: oneGuildView(feed, emu.guildId),
    voice: feed,
    dir,
    discord,
    async close() {
      await feed.stop()
      await emu.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A RoomService on the world with a manual clock and recording events. */
export function makeService(
  world: World,
  overrides: Partial<RoomServiceOptions> = {},
  clock = new ManualClock(Date.now()),
) {
  const events = new RecordingEvents()
  const store =
    overrides.store ??
    new FileRoomStore(join(world.dir, `rooms-${Math.random().toString(36).slice(2)}.json`))
  const service = new RoomService({
    store,
    discord: world.discord,
    pool: [world.emu.guildId],
    voice: world.voice,
    events,
    invites: new InviteTokens({ secret: SECRET, now: () => clock.now() }),
    clock,
    logger,
    publicUrl: PUBLIC_URL,
    discordWebUrl: world.emu.webUrl,
    ...overrides,
  })
  return { service, clock, events, store }
}

let userCounter = 0
/** A fresh emulated Discord user with an OAuth token (identify + guilds.join). */
export function newActor(world: World, name = 'player'): Actor {
  userCounter++
  const username = `${name}${userCounter}`.toLowerCase()
  const { id } = world.emu.control.createUser({ username })
  const { accessToken } = world.emu.control.issueAccessToken({
    userId: id,
    scopes: ['identify', 'guilds.join'],
  })
  return { userId: id, username, globalName: null, avatar: null, accessToken }
}

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The room token inside an invite URL. */
export function tokenOf(inviteUrl: string | undefined): string {
  return new URL(inviteUrl ?? 'http://x').searchParams.get('t') ?? ''
}
