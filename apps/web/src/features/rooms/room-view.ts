import { MAX_PLAYERS, type RoomState, type RoomView } from '@repo/discord-integration/contracts'
import type { RoomRecord } from './room-store'

/** Where a room's links point. */
export interface RoomLinks {
  /** `PUBLIC_URL`, for invite links. */
  publicUrl: string
  /** `DISCORD_WEB_URL`, for voice channel links. */
  discordWebUrl: string
}

/** The link that opens the room's voice channel in Discord. */
export function voiceJoinUrl(room: RoomRecord, links: RoomLinks): string {
  return `${links.discordWebUrl.replace(/\/$/, '')}/channels/${room.guildId}/${room.channelId}`
}

/** The room as its players see it: the record without the category, activity and invite version. */
export function roomView(room: RoomRecord, links: RoomLinks): RoomView {
  return {
    id: room.id,
    name: room.name,
    guildId: room.guildId,
    channelId: room.channelId,
    ownerId: room.ownerId,
    players: room.players,
    maxPlayers: MAX_PLAYERS,
    status: room.status,
    createdAt: room.createdAt,
    closesAt: room.closesAt,
    voiceJoinUrl: voiceJoinUrl(room, links),
    invite: {
      url: `${links.publicUrl.replace(/\/$/, '')}/rooms/${room.id}/join?t=${encodeURIComponent(room.inviteToken)}`,
      expiresAt: room.inviteExpiresAt,
    },
  }
}

/** What the room's browsers know of it (room.updated, snapshots). */
export function roomState(room: RoomRecord): RoomState {
  return {
    ownerId: room.ownerId,
    players: room.players,
    status: room.status,
    closesAt: room.closesAt,
  }
}
