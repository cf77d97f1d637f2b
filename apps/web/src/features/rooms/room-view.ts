import {
  MAX_PLAYERS,
  MAX_SPECTATORS,
  type RoomLinks as PlayerLinks,
  type RoomRole,
  type RoomState,
  type RoomView,
} from '@repo/discord-integration/contracts'
import type { RoomRecord } from './room-store'

/** Where a room's links point. */
export interface RoomLinks {
  /** `PUBLIC_URL`, for invite links. */
  publicUrl: string
  /** `DISCORD_WEB_URL`, for voice channel links. */
  discordWebUrl: string
}

/** The link that opens the room's voice channel in Discord (in a browser: the web client). */
export function voiceJoinUrl(room: RoomRecord, links: RoomLinks): string {
  return `${links.discordWebUrl.replace(/\/$/, '')}/channels/${room.guildId}/${room.channelId}`
}

/**
 * The link that opens the room's voice channel in the installed Discord app (its `discord://`
 * scheme; `-` stands for the default host): a browser link often lands in the web client instead.
 */
export function voiceAppUrl(room: RoomRecord): string {
  return `discord://-/channels/${room.guildId}/${room.channelId}`
}

const base = (links: RoomLinks) => links.publicUrl.replace(/\/$/, '')

/** The room's invite link (seats a player). */
export function inviteUrl(room: RoomRecord, links: RoomLinks): string {
  return `${base(links)}/rooms/${room.id}/join?t=${encodeURIComponent(room.inviteToken)}`
}

/** The room's watch link (makes a spectator), or null when it has none. */
export function watchUrl(room: RoomRecord, links: RoomLinks): string | null {
  if (room.watchToken === null) return null
  return `${base(links)}/rooms/${room.id}/watch?t=${encodeURIComponent(room.watchToken)}`
}

/** What a user is in the room, or null when they are neither seated nor watching. */
export function roleIn(room: RoomRecord, userId: string): RoomRole | null {
  if (room.players.some((p) => p.userId === userId)) {
    return room.ownerId === userId ? 'host' : 'player'
  }
  return room.spectators.some((s) => s.userId === userId) ? 'spectator' : null
}

/** The links only players see, or null while the room has no code yet. */
export function playerLinks(room: RoomRecord, links: RoomLinks): PlayerLinks | null {
  if (room.code === null) return null
  const watch = watchUrl(room, links)
  return {
    invite: { url: inviteUrl(room, links), expiresAt: room.inviteExpiresAt },
    code: room.code,
    watch:
      watch === null || room.watchExpiresAt === null
        ? null
        : { url: watch, expiresAt: room.watchExpiresAt },
  }
}

/**
 * The room as a player (or, with `role` spectator, a spectator) sees it: the record without the
 * category, activity and link versions; the invite link, code and watch link for players only.
 */
export function roomView(room: RoomRecord, links: RoomLinks, role: RoomRole = 'player'): RoomView {
  const mine = role === 'spectator' ? null : playerLinks(room, links)
  return {
    id: room.id,
    name: room.name,
    guildId: room.guildId,
    channelId: room.channelId,
    ownerId: room.ownerId,
    players: room.players,
    maxPlayers: MAX_PLAYERS,
    spectators: room.spectators,
    maxSpectators: MAX_SPECTATORS,
    locked: room.locked,
    status: room.status,
    createdAt: room.createdAt,
    closesAt: room.closesAt,
    voiceJoinUrl: voiceJoinUrl(room, links),
    voiceAppUrl: voiceAppUrl(room),
    invite:
      role === 'spectator'
        ? null
        : { url: inviteUrl(room, links), expiresAt: room.inviteExpiresAt },
    code: mine?.code ?? null,
    watch: mine?.watch ?? null,
    linksRev: room.linksRev,
  }
}

/**
 * What the room's browsers know of it (room.updated, snapshots): players and spectators alike,
 * so never a link or the code. The fields added by issue 21 are left out at their defaults (no
 * spectators, unlocked, links revision 0), as the protocol's version rule allows.
 */
export function roomState(room: RoomRecord): RoomState {
  const state: RoomState = {
    ownerId: room.ownerId,
    players: room.players,
    status: room.status,
    closesAt: room.closesAt,
  }
  if (room.spectators.length > 0) state.spectators = room.spectators
  if (room.locked) state.locked = true
  if (room.linksRev > 0) state.linksRev = room.linksRev
  return state
}
