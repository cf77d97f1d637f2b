import { type Emulator, startEmulator } from '@repo/discord-emulator'
import type { ConnectVoiceResult, RoomView } from '@repo/discord-integration/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorFromResponse } from '../../src/lib/server-fn-errors'
import { tokenOf } from '../rooms/harness'
import { type AppServer, resultOf, startAppServer } from './app-server'
import { newPlayer, type Player, setCookieValue, signInOverHttp } from './sessions'

/**
 * The server functions over HTTP, through TanStack Start itself (`vite dev`) and the Discord
 * emulator: their middleware (the caller, the rate limit), and the answer a failure gets.
 */

let emu: Emulator
let app: AppServer
/** VOICE_STATE_UPDATE dispatches the emulator has written to the app's gateway socket. */
let voiceDispatches = 0

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    quiet: true,
    onDispatch: ({ t }) => {
      if (t === 'VOICE_STATE_UPDATE') voiceDispatches++
    },
  })
  app = await startAppServer(emu)
}, 120_000)

afterAll(async () => {
  await app?.close()
  await emu?.close()
})

/** Signs the player in to the app over HTTP (its real OAuth flow against the emulator). */
const cookieOf = (player: Player) => signInOverHttp(app.url, player.userId)

/** The JSON body of a failed call, checked to be exactly the documented shape. */
async function failure(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return (await response.json()) as { code: string; message: string; retryAfter?: number }
}

async function createRoom(owner: Player, name = 'glue room'): Promise<RoomView> {
  return resultOf<RoomView>(
    await app.call('createRoom', { name }, { cookie: await cookieOf(owner) }),
  )
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${app.output()}`)
    await new Promise((done) => setTimeout(done, 50))
  }
}

const healthStatus = async () =>
  ((await (await fetch(`${app.url}/api/health`)).json()) as { status: string }).status

describe('server functions over HTTP', () => {
  it('refuses a signed-out call with 401 UNAUTHENTICATED', async () => {
    const response = await app.call('listMyRooms')
    expect(response.status).toBe(401)
    expect(await failure(response)).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Please sign in with Discord.',
    })
  })

  it('works for a signed-in caller, and getHome signed out too', async () => {
    const owner = newPlayer(emu)
    const room = await createRoom(owner, 'hello')
    expect(room).toMatchObject({ name: 'hello', ownerId: owner.userId })
    const rooms = await resultOf<RoomView[]>(
      await app.call('listMyRooms', undefined, { cookie: await cookieOf(owner) }),
    )
    expect(rooms.map((r) => r.id)).toEqual([room.id])
    expect(await resultOf(await app.call('getHome'))).toEqual({ user: null, rooms: [] })
  })

  it('a Discord authorization the user revoked in Discord answers 401 DISCORD_AUTH_REVOKED (not DISCORD_UNAVAILABLE) and ends the session', async () => {
    const player = newPlayer(emu)
    const cookie = await cookieOf(player)
    // The user removes the app in Discord: their access token stops working at once.
    emu.control.deauthorize({ userId: player.userId })
    const response = await app.call('createRoom', { name: 'revoked' }, { cookie })
    expect(response.status).toBe(401)
    expect(await failure(response)).toEqual({
      code: 'DISCORD_AUTH_REVOKED',
      message:
        'Discord no longer accepts your sign-in (it was revoked or could not be renewed). Please sign in with Discord again.',
    })
    expect(response.headers.getSetCookie().join()).toMatch(/tv_session=; .*Max-Age=0/)
    const again = await app.call('listMyRooms', undefined, { cookie })
    expect(again.status).toBe(401)
    expect((await failure(again)).code).toBe('SESSION_EXPIRED')
  })

  it('after sign-out, a copied cookie answers 401 SESSION_EXPIRED and is cleared', async () => {
    const cookie = await cookieOf(newPlayer(emu))
    expect((await app.call('listMyRooms', undefined, { cookie })).status).toBe(200)
    const logout = await fetch(`${app.url}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: app.url },
    })
    expect(logout.status).toBe(303)
    const response = await app.call('listMyRooms', undefined, { cookie })
    expect(response.status).toBe(401)
    expect(await failure(response)).toEqual({
      code: 'SESSION_EXPIRED',
      message: 'Your session has ended. Please sign in with Discord again.',
    })
    expect(setCookieValue(response, 'tv_session')).toBe('')
    expect(await resultOf(await app.call('getHome', undefined, { cookie }))).toEqual({
      user: null,
      rooms: [],
    })
  })

  it('answers RATE_LIMITED (429, retryAfter, Retry-After) past the per-caller limit', async () => {
    const cookie = await cookieOf(newPlayer(emu))
    // The limit is a burst of 20 refilled at 2 calls/s: 30 calls at once cannot all pass.
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => app.call('listMyRooms', undefined, { cookie })),
    )
    const passed = answers.filter((r) => r.status === 200)
    const limited = answers.filter((r) => r.status === 429)
    expect(passed.length).toBeGreaterThanOrEqual(20)
    expect(limited.length).toBeGreaterThanOrEqual(1)
    expect(passed.length + limited.length).toBe(30)
    const [first] = limited
    if (!first) throw new Error('no 429')
    expect(first.headers.get('retry-after')).toBe('1')
    expect(await failure(first)).toEqual({
      code: 'RATE_LIMITED',
      message: 'Too many requests. Try again in a moment.',
      retryAfter: 1,
    })
    // Another caller is not limited by that one.
    const other = await app.call('listMyRooms', undefined, {
      cookie: await cookieOf(newPlayer(emu)),
    })
    expect(other.status).toBe(200)
  })

  it('answers each typed error with its HTTP status and table message, read back by the browser code', async () => {
    const owner = newPlayer(emu)
    const room = await createRoom(owner)
    const outsider = await cookieOf(newPlayer(emu))
    const forbidden = await app.call('getRoom', { roomId: room.id }, { cookie: outsider })
    expect(forbidden.status).toBe(403)
    const missing = await app.call('getRoom', { roomId: 'abcdefghijkl' }, { cookie: outsider })
    expect(missing.status).toBe(404)
    const forged = await app.call(
      'previewInvite',
      { roomId: room.id, token: `${tokenOf(room.invite?.url).slice(0, -4)}AAAA` },
      { cookie: outsider },
    )
    expect(forged.status).toBe(400)
    const error = await errorFromResponse(forged)
    expect(error).toMatchObject({
      code: 'TOKEN_INVALID',
      status: 400,
      message: 'This invite link is not valid.',
    })
    expect((await failure(missing)).code).toBe('ROOM_NOT_FOUND')
    expect(await failure(forbidden)).toEqual({
      code: 'FORBIDDEN',
      message: 'You are not allowed to do that.',
    })
  })

  it('answers input its schema refuses with 400 INVALID_INPUT', async () => {
    const cookie = await cookieOf(newPlayer(emu))
    const response = await app.call('getRoom', { roomId: '../../etc/passwd' }, { cookie })
    expect(response.status).toBe(400)
    expect(await failure(response)).toEqual({
      code: 'INVALID_INPUT',
      message: 'The request was not valid.',
    })
  })

  it('answers malformed requests with the fixed INVALID_INPUT body, never parser text', async () => {
    const cookie = await cookieOf(newPlayer(emu))
    const bodies = ['{{{', '{"t":99}', '[1,2', '"just a string"']
    for (const body of bodies) {
      const response = await app.post('getRoom', body, { cookie })
      expect(response.status, body).toBe(400)
      expect(await response.text(), body).toBe(
        JSON.stringify({ code: 'INVALID_INPUT', message: 'The request was not valid.' }),
      )
    }
    const unknown = await app.post('not-a-function-id', '{}', { cookie })
    expect(unknown.status).toBe(400)
    expect((await failure(unknown)).code).toBe('INVALID_INPUT')
    const badQuery = await fetch(`${app.url}/_serverFn/x?payload=%7B%7B`, {
      headers: { 'x-tsr-serverfn': 'true', 'sec-fetch-site': 'same-origin' },
    })
    expect(badQuery.status).toBe(400)
    expect(await badQuery.text()).not.toMatch(/JSON|position|Seroval|not found/i)
  })

  it('refuses a cross-site call (403) before any function runs', async () => {
    const owner = newPlayer(emu)
    const response = await fetch(`${app.url}/_serverFn/x`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-tsr-serverfn': 'true',
        origin: 'https://evil.example',
        cookie: await cookieOf(owner),
      },
      body: '{}',
    })
    expect(response.status).toBe(403)
    const crossSiteFetch = await fetch(`${app.url}/_serverFn/x`, {
      method: 'POST',
      headers: { 'x-tsr-serverfn': 'true', 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSiteFetch.status).toBe(403)
  })

  it('rolls the seat back when Discord fails during a join, and the join works once Discord answers', async () => {
    const owner = newPlayer(emu)
    const guest = newPlayer(emu)
    const room = await createRoom(owner)
    const token = tokenOf(room.invite?.url)
    emu.control.restFault({
      method: 'PUT',
      path: `/channels/${room.channelId}/permissions/${guest.userId}`,
      status: 500,
      count: 4,
    })
    const guestCookie = await cookieOf(guest)
    const failed = await app.call('joinRoom', { roomId: room.id, token }, { cookie: guestCookie })
    expect(failed.status).toBe(502)
    expect(await failure(failed)).toEqual({
      code: 'DISCORD_UNAVAILABLE',
      message: 'Discord did not answer as expected. Try again.',
    })
    const seen = await resultOf<{ room: RoomView }>(
      await app.call('getRoom', { roomId: room.id }, { cookie: await cookieOf(owner) }),
    )
    expect(seen.room.players.map((p) => p.userId)).toEqual([owner.userId])
    const joined = await resultOf<{ room: RoomView }>(
      await app.call('joinRoom', { roomId: room.id, token }, { cookie: guestCookie }),
    )
    expect(joined.room.players.map((p) => p.userId).sort()).toEqual(
      [owner.userId, guest.userId].sort(),
    )
  })

  it('answers not_in_voice when the caller left voice between our check and the move (Discord 40032)', async () => {
    const owner = newPlayer(emu)
    const guest = newPlayer(emu)
    const room = await createRoom(owner)
    const guestCookie = await cookieOf(guest)
    await resultOf(
      await app.call(
        'joinRoom',
        { roomId: room.id, token: tokenOf(room.invite?.url) },
        { cookie: guestCookie },
      ),
    )
    const lobby = emu.control.state().channels.find((c) => c.name === 'Lobby')
    if (!lobby) throw new Error('no Lobby in the emulator world')
    // The guest sits in the Lobby, and the app's gateway hears of it...
    const before = voiceDispatches
    emu.control.setVoice({ userId: guest.userId, channelId: lobby.id })
    await waitFor(() => voiceDispatches > before, 'the voice update to reach the app')
    // ...then the app's gateway loses Discord (the close frame follows the update on the same
    // socket, so the app has applied it) and the guest leaves voice unseen.
    emu.control.refuse(60_000)
    emu.control.closeGateway(4000)
    emu.control.setVoice({ userId: guest.userId, channelId: null })
    try {
      const from = emu.control.restLog().length
      const result = await resultOf<ConnectVoiceResult>(
        await app.call('connectVoice', { roomId: room.id }, { cookie: guestCookie }),
      )
      expect(result.status).toBe('not_in_voice')
      expect(result.joinUrl).toBe(`${emu.webUrl}/channels/${emu.guildId}/${room.channelId}`)
      // The app did try the move: Discord refused it with 40032 (400).
      expect(
        emu.control
          .restLog()
          .slice(from)
          .filter((e) => e.method === 'PATCH' && e.path.endsWith(`/members/${guest.userId}`))
          .map((e) => e.status),
      ).toEqual([400])
    } finally {
      emu.control.refuse(0)
      await waitFor(async () => (await healthStatus()) === 'ok', 'the gateway to come back')
    }
  })

  it('passes the middleware of server routes too (/api/session, /api/health)', async () => {
    const signedOut = await fetch(`${app.url}/api/session`)
    expect(signedOut.status).toBe(401)
    const signedIn = await fetch(`${app.url}/api/session`, {
      headers: { cookie: await cookieOf(newPlayer(emu)) },
    })
    expect(await signedIn.json()).toEqual({ signedIn: true })
    expect(await healthStatus()).toBe('ok')
  })
})
