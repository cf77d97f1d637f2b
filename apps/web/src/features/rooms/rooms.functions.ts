import {
  CreateRoomInputSchema,
  JoinRoomInputSchema,
  KickPlayerInputSchema,
  RoomRefInputSchema,
} from '@repo/discord-integration/contracts'
import { createServerFn } from '@tanstack/react-start'
import { z } from 'zod'
import { validateWith } from '../../lib/server-fn-errors'
import { maybeSignedIn, signedIn } from '../../server/middleware/server-fn'

/**
 * The room server functions. Each gets what it needs in `context` from its middleware: the
 * room service (`context.rooms`) and the caller (`context.actor`, read from the session cookie
 * on the server; no function accepts a user id for the caller). Failures answer with the
 * documented typed error (specs/017-discord-gateway-real/contracts/server-functions.md).
 */

export const createRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(CreateRoomInputSchema))
  .handler(({ data, context }) => context.rooms.createRoom(context.actor, data.name))

export const getRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(RoomRefInputSchema))
  .handler(async ({ data, context: { rooms, actor } }) => ({
    room: await rooms.getRoom(actor, data.roomId),
    self: {
      userId: actor.userId,
      username: actor.username,
      globalName: actor.globalName,
      avatar: actor.avatar,
    },
  }))

export const previewInvite = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.previewInvite(data.roomId, data.token))

export const joinRoom = createServerFn({ method: 'POST' })
  .middleware([signedIn])
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data, context }) => context.rooms.joinRoom(context.actor, data.roomId, data.token))

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
