import {
  CreateRoomInputSchema,
  JoinRoomInputSchema,
  KickPlayerInputSchema,
  RoomRefInputSchema,
} from '@repo/discord-integration/contracts'
import { createServerFn } from '@tanstack/react-start'
import { z } from 'zod'
import { validateWith } from '../../lib/server-fn-errors'
import { runAuthenticated, runPublic } from './server-fn-runner.server'

/**
 * The room server functions. Every one reads the caller from the session
 * cookie on the server; none accepts a user id for the caller.
 */

export const createRoom = createServerFn({ method: 'POST' })
  .validator(validateWith(CreateRoomInputSchema))
  .handler(({ data }) => runAuthenticated((rt, actor) => rt.rooms.createRoom(actor, data.name)))

export const getRoom = createServerFn({ method: 'POST' })
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data }) =>
    runAuthenticated(async (rt, actor) => ({
      room: await rt.rooms.getRoom(actor, data.roomId),
      self: {
        userId: actor.userId,
        username: actor.username,
        globalName: actor.globalName,
        avatar: actor.avatar,
      },
    })),
  )

export const previewInvite = createServerFn({ method: 'POST' })
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data }) => runAuthenticated((rt) => rt.rooms.previewInvite(data.roomId, data.token)))

export const joinRoom = createServerFn({ method: 'POST' })
  .validator(validateWith(JoinRoomInputSchema))
  .handler(({ data }) =>
    runAuthenticated((rt, actor) => rt.rooms.joinRoom(actor, data.roomId, data.token)),
  )

export const leaveRoom = createServerFn({ method: 'POST' })
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data }) =>
    runAuthenticated(async (rt, actor) => {
      await rt.rooms.leaveRoom(actor, data.roomId)
      return { ok: true as const }
    }),
  )

export const closeRoom = createServerFn({ method: 'POST' })
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data }) =>
    runAuthenticated(async (rt, actor) => {
      await rt.rooms.closeRoom(actor, data.roomId)
      return { ok: true as const }
    }),
  )

export const kickPlayer = createServerFn({ method: 'POST' })
  .validator(validateWith(KickPlayerInputSchema))
  .handler(({ data }) =>
    runAuthenticated((rt, actor) => rt.rooms.kickPlayer(actor, data.roomId, data.userId)),
  )

export const rotateInvite = createServerFn({ method: 'POST' })
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data }) => runAuthenticated((rt, actor) => rt.rooms.rotateInvite(actor, data.roomId)))

export const connectVoice = createServerFn({ method: 'POST' })
  .validator(validateWith(RoomRefInputSchema))
  .handler(({ data }) => runAuthenticated((rt, actor) => rt.rooms.connectVoice(actor, data.roomId)))

export const listMyRooms = createServerFn({ method: 'POST' })
  .validator(validateWith(z.object({}).strict().optional()))
  .handler(() => runAuthenticated((rt, actor) => rt.rooms.listMyRooms(actor)))

/** The home page's data: the signed-in user (or null) and their rooms. */
export const getHome = createServerFn({ method: 'GET' }).handler(() =>
  runPublic(async (rt, user) => ({
    user,
    rooms: user ? await rt.rooms.listMyRooms(user) : [],
  })),
)
