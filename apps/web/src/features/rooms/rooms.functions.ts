import {
  CreateRoomInputSchema,
  JoinByCodeInputSchema,
  JoinRoomInputSchema,
  KickPlayerInputSchema,
  RoomMemberInputSchema,
  RoomRefInputSchema,
  SetLockedInputSchema,
} from '@repo/discord-integration/contracts'
import { createServerFn } from '@tanstack/react-start'
import { z } from 'zod'
import { validateWith } from '../../lib/server-fn-errors'
import { AppError } from '../../server/app-error'
import { withClientAddress } from '../../server/middleware/client-address'
import { maybeSignedIn, signedIn } from '../../server/middleware/server-fn'

/**
 * The room server functions. Each gets what it needs in `context` from its middleware: the
 * room service (`context.rooms`) and the caller (`context.actor`, read from the session cookie
 * on the server; no function accepts a user id for the caller). Failures answer with the
 * documented typed error (specs/017-discord-gateway-real/contracts/server-functions.md).
 */

/**
 * Creates a room. With `guildId` (the "Server" picker, ROOMS_COMMUNITY=1) the caller must be
 * able to create rooms in that community server (SERVER_NOT_ALLOWED otherwise).
 */
export const createRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(CreateRoomInputSchema))
  .handler(async ({ data, context }) => {
    if (data.guildId !== undefined) {
      if (!context.servers) throw new AppError('SERVER_NOT_ALLOWED', { detail: 'community off' })
      // COMMUNITY-PLACEMENT: the room's channel goes to this server once rooms are guild-aware
      // (the placement seam of wt/guilds); until then the pick is checked here only.
      await context.servers.placement(context.actor, data.guildId)
    }
    return context.rooms.createRoom(context.actor, data.name)
  })

/** The room page's data: the room as the caller sees it, who they are and what they are in it. */
export const getRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(async ({ data, context: { rooms, actor } }) => {
    const { room, role } = await rooms.openRoom(actor, data.roomId)
    return {
      room,
      role,
      self: {
        userId: actor.userId,
        username: actor.username,
        globalName: actor.globalName,
        avatar: actor.avatar,
      },
    }
  })

/** The players' links (invite link, room code, watch link); spectators get FORBIDDEN. */
export const getRoomLinks = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data, context }) => context.rooms.getRoomLinks(context.actor, data.roomId))

export const previewInvite = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.previewInvite(data.roomId, data.token))

export const joinRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.joinRoom(context.actor, data.roomId, data.token))

/** Joins the room a code belongs to (rate limited per user and per address: CODE_ATTEMPTS). */
export const joinByCode = createServerFn({ method: 'POST' })
  .middleware([signedIn, withClientAddress])
  .validator(validateWith(JoinByCodeInputSchema))
  .handler(({ data, context }) =>
    context.rooms.joinByCode(context.actor, data.code, context.clientAddress),
  )

/** Leaves the room: a player's seat is freed at once; a spectator stops watching. */
export const leaveRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(async ({ data, context }) => {
    await context.rooms.leaveRoom(context.actor, data.roomId)
    return { ok: true as const }
  })

export const closeRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(async ({ data, context }) => {
    await context.rooms.closeRoom(context.actor, data.roomId)
    return { ok: true as const }
  })

export const kickPlayer = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(KickPlayerInputSchema))
  .handler(({ data, context }) => context.rooms.kickPlayer(context.actor, data.roomId, data.userId))

export const rotateInvite = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data, context }) => context.rooms.rotateInvite(context.actor, data.roomId))

export const setRoomLocked = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(SetLockedInputSchema))
  .handler(({ data, context }) => context.rooms.setLocked(context.actor, data.roomId, data.locked))

export const transferHost = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomMemberInputSchema))
  .handler(({ data, context }) =>
    context.rooms.transferHost(context.actor, data.roomId, data.userId),
  )

export const freeSeat = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomMemberInputSchema))
  .handler(({ data, context }) => context.rooms.freeSeat(context.actor, data.roomId, data.userId))

/** Makes the watch link, or a new one (the old one stops working). */
export const rotateWatchLink = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data, context }) => context.rooms.rotateWatchLink(context.actor, data.roomId))

export const revokeWatchLink = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data, context }) => context.rooms.revokeWatchLink(context.actor, data.roomId))

export const previewWatch = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.previewWatch(data.roomId, data.token))

/** Watches a room by its watch link (SPECTATORS_FULL past eight). */
export const watchRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.watchRoom(context.actor, data.roomId, data.token))

export const removeSpectator = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomMemberInputSchema))
  .handler(({ data, context }) =>
    context.rooms.removeSpectator(context.actor, data.roomId, data.userId),
  )

export const connectVoice = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data, context }) => context.rooms.connectVoice(context.actor, data.roomId))

export const listMyRooms = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(z.object({}).strict().optional()))
  .handler(({ context }) => context.rooms.listMyRooms(context.actor))

/** The home page's data: the signed-in user (or null) and their rooms. */
export const getHome = createServerFn({ method: 'GET' })
  .middleware([maybeSignedIn])
  .handler(async ({ context: { rooms, user } }) => ({
    user,
    rooms: user ? await rooms.listMyRooms(user) : [],
  }))
