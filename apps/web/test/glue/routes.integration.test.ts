import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_WORLD, type Emulator, startEmulator, type WorldSeed } from '@repo/discord-emulator'
import { PermissionFlagsBits } from 'discord-api-types/v10'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Route as HealthRoute } from '../../src/routes/api/health'
import { Route as SessionRoute } from '../../src/routes/api/session'
import { Route as CallbackRoute } from '../../src/routes/auth/callback'
import { Route as LoginRoute } from '../../src/routes/auth/login'
import { Route as LogoutRoute } from '../../src/routes/auth/logout'
import { Route as LogoutEverywhereRoute } from '../../src/routes/auth/logout-everywhere'
import { Route as MetricsRoute } from '../../src/routes/metrics'
import { withRuntime, withRuntimeStatus } from '../../src/server/middleware/runtime'
import {
  bootRuntime,
  createRuntime,
  type Runtime,
  requestServices,
  shutdownRuntime,
} from '../../src/server/runtime.server'
import { runtimeStatus } from '../../src/server/runtime-status'
import { emulatorConfig, logger } from '../rooms/harness'
import { routeHandler, routeMiddleware } from './route-handlers'
import { newPlayer, sessionCookie, setCookieValue } from './sessions'

/**
 * The server routes' handlers, called with plain Requests and the context their middleware hands
 * in, on a runtime running against the Discord emulator.
 */

const PUBLIC_URL = 'http://127.0.0.1:3996'
const SECRET = 'route-test-secret-'.padEnd(48, 'r')

interface World {
  emu: Emulator
  runtime: Runtime
  close(): Promise<void>
}

async function startWorld(
  settings: Record<string, string> = {},
  boot = true,
  seed: WorldSeed = DEFAULT_WORLD,
  redirectRegistered = true,
): Promise<World> {
  const emu = await startEmulator({ port: 0, quiet: true, world: seed })
  // Set up as docs/discord-setup.md says (pnpm dev does the same): the redirect is registered.
  if (redirectRegistered)
    emu.control.setApplication({ redirectUris: [`${PUBLIC_URL}/auth/callback`] })
  const dir = await mkdtemp(join(tmpdir(), 'tv-routes-'))
  const runtime = createRuntime(
    emulatorConfig(
      emu,
      { DATA_DIR: dir, PUBLIC_URL, SESSION_SECRET: SECRET, ...settings },
      { redirectRegistered },
    ),
    { logger },
  )
  if (boot) {
    await bootRuntime(runtime)
    await runtime.feed?.ready(10_000)
  }
  return {
    emu,
    runtime,
    async close() {
      await shutdownRuntime(runtime)
      await emu.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

let world: World
beforeAll(async () => {
  world = await startWorld()
})
afterAll(async () => {
  await world?.close()
})

const services = () => requestServices(world.runtime)
const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${PUBLIC_URL}${path}`, { headers })

/** What /api/session says about a Cookie header. */
async function signedIn(cookie: string): Promise<boolean> {
  const response = await routeHandler(
    SessionRoute,
    'GET',
  )({ request: get('/api/session', { cookie }), context: services() })
  return response.status === 200
}

async function until(check: () => boolean, what: string, ms = 15_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 20))
  }
}

describe('sign-in routes', () => {
  it('are wired to the runtime through middleware', () => {
    for (const route of [
      LoginRoute,
      CallbackRoute,
      LogoutRoute,
      LogoutEverywhereRoute,
      SessionRoute,
    ]) {
      expect(routeMiddleware(route)).toEqual([withRuntime])
    }
    for (const route of [HealthRoute, MetricsRoute]) {
      expect(routeMiddleware(route)).toEqual([withRuntimeStatus])
    }
  })

  it('/auth/login sends the browser to Discord with state and PKCE, remembered in a login cookie', async () => {
    const response = await routeHandler(
      LoginRoute,
      'GET',
    )({
      request: get('/auth/login?returnTo=/rooms/abcdefghijkl'),
      context: services(),
    })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get('location') ?? '')
    expect(`${location.origin}${location.pathname}`).toBe(`${world.emu.webUrl}/oauth2/authorize`)
    expect(location.searchParams.get('client_id')).toBe(world.emu.clientId)
    expect(location.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/auth/callback`)
    expect(location.searchParams.get('code_challenge_method')).toBe('S256')
    expect(location.searchParams.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(response.headers.get('set-cookie')).toMatch(/^tv_login=.+; Path=\/auth; .*HttpOnly/)
  })

  it('/auth/callback completes the sign-in: a session cookie, and back to where the user was', async () => {
    const player = newPlayer(world.emu)
    const login = await routeHandler(
      LoginRoute,
      'GET',
    )({
      request: get('/auth/login?returnTo=/rooms/abcdefghijkl'),
      context: services(),
    })
    const loginCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    // Discord's (the emulator's) authorize page, approved as the player.
    const authorize = new URL(login.headers.get('location') ?? '')
    authorize.searchParams.set('user_id', player.userId)
    const approved = await fetch(authorize, { redirect: 'manual' })
    const callbackUrl = approved.headers.get('location') ?? ''
    expect(callbackUrl.startsWith(`${PUBLIC_URL}/auth/callback?`)).toBe(true)

    const response = await routeHandler(
      CallbackRoute,
      'GET',
    )({
      request: new Request(callbackUrl, { headers: { cookie: loginCookie } }),
      context: services(),
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/rooms/abcdefghijkl')
    expect(setCookieValue(response, 'tv_login')).toBe('')
    const session = setCookieValue(response, 'tv_session')
    expect(session).toMatch(/^s1\.[\w-]{43}\.[\w-]{43}$/)

    const check = await routeHandler(
      SessionRoute,
      'GET',
    )({
      request: get('/api/session', { cookie: `tv_session=${encodeURIComponent(session ?? '')}` }),
      context: services(),
    })
    expect(check.status).toBe(200)
    expect(await check.json()).toEqual({ signedIn: true })
  })

  it('/auth/callback with a state that does not match fails to the signed-out page', async () => {
    const login = await routeHandler(
      LoginRoute,
      'GET',
    )({
      request: get('/auth/login'),
      context: services(),
    })
    const loginCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const response = await routeHandler(
      CallbackRoute,
      'GET',
    )({
      request: get('/auth/callback?code=stolen&state=forged', { cookie: loginCookie }),
      context: services(),
    })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/signed-out?reason=failed')
    expect(setCookieValue(response, 'tv_login')).toBe('')
    expect(setCookieValue(response, 'tv_session')).toBeUndefined()
  })

  it('a flood of forged sign-in callbacks writes a few lines, not one per request', async () => {
    const lines: { msg: string; suppressed?: number }[] = []
    const captured = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    )
    const emu = await startEmulator({ port: 0, quiet: true })
    const dir = await mkdtemp(join(tmpdir(), 'tv-routes-'))
    const runtime = createRuntime(
      emulatorConfig(emu, { DATA_DIR: dir, PUBLIC_URL, SESSION_SECRET: SECRET }),
      { logger: captured },
    )
    try {
      const callback = routeHandler(CallbackRoute, 'GET')
      for (let i = 0; i < 40; i++) {
        const response = await callback({
          request: get(`/auth/callback?code=forged${i}&state=forged`),
          context: requestServices(runtime),
        })
        expect(response.headers.get('location')).toBe('/signed-out?reason=failed')
      }
      const refused = lines.filter((l) => l.msg === 'sign-in callback failed')
      expect(refused.length).toBeGreaterThan(0)
      expect(refused.length).toBeLessThanOrEqual(10)
    } finally {
      await shutdownRuntime(runtime)
      await emu.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('/auth/logout refuses a cross-site post, and otherwise ends the session, revokes the Discord grant and clears the cookie', async () => {
    const player = newPlayer(world.emu)
    const cookie = await sessionCookie(world.runtime.auth, player)
    const tokenWorks = async () =>
      (
        await fetch(`${world.emu.restBase}/v10/users/@me`, {
          headers: { authorization: `Bearer ${player.accessToken}` },
        })
      ).status === 200
    const logout = (origin: string) =>
      routeHandler(
        LogoutRoute,
        'POST',
      )({
        request: new Request(`${PUBLIC_URL}/auth/logout`, {
          method: 'POST',
          headers: { cookie, origin },
        }),
        context: services(),
      })

    const crossSite = await logout('https://evil.example')
    expect(crossSite.status).toBe(403)
    expect(await tokenWorks()).toBe(true)
    expect(await signedIn(cookie)).toBe(true)

    const response = await logout(PUBLIC_URL)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/signed-out')
    expect(setCookieValue(response, 'tv_session')).toBe('')
    expect(await tokenWorks()).toBe(false)
    // A copy of the cookie taken before is worth nothing now.
    expect(await signedIn(cookie)).toBe(false)
  })

  it('/auth/logout-everywhere refuses a cross-site post, and otherwise ends every session of the user', async () => {
    const player = newPlayer(world.emu)
    const other = newPlayer(world.emu)
    const [phone, laptop, someoneElse] = [
      await sessionCookie(world.runtime.auth, player),
      await sessionCookie(world.runtime.auth, player),
      await sessionCookie(world.runtime.auth, other),
    ]
    const everywhere = (origin: string) =>
      routeHandler(
        LogoutEverywhereRoute,
        'POST',
      )({
        request: new Request(`${PUBLIC_URL}/auth/logout-everywhere`, {
          method: 'POST',
          headers: { cookie: laptop, origin },
        }),
        context: services(),
      })
    expect((await everywhere('https://evil.example')).status).toBe(403)
    expect(await signedIn(phone)).toBe(true)
    const response = await everywhere(PUBLIC_URL)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/signed-out?reason=everywhere')
    expect(setCookieValue(response, 'tv_session')).toBe('')
    expect(await signedIn(phone)).toBe(false)
    expect(await signedIn(laptop)).toBe(false)
    expect(await signedIn(someoneElse)).toBe(true)
  })

  it('/api/session answers 401 without a valid session', async () => {
    for (const cookie of ['', 'tv_session=Fe26.2**tampered', 'other=1']) {
      const response = await routeHandler(
        SessionRoute,
        'GET',
      )({
        request: get('/api/session', cookie ? { cookie } : {}),
        context: services(),
      })
      expect(response.status).toBe(401)
      expect(await response.json()).toEqual({ signedIn: false })
    }
  })
})

describe('/api/health and /metrics', () => {
  const health = async (runtime: Runtime) => {
    const response = await routeHandler(
      HealthRoute,
      'GET',
    )({
      request: get('/api/health'),
      context: { status: runtimeStatus(runtime, true), clientAddress: '127.0.0.1' },
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  it('says ok while the gateway is ready, degraded (200) while it reconnects', async () => {
    const ok = await health(world.runtime)
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({
      status: 'ok',
      layout: 'single',
      gatewayMode: 'in-process',
      missingPermissions: [],
      failingChecks: [],
    })
    expect(ok.body.gateway).toMatchObject({ state: 'ready' })

    world.emu.control.refuse(30_000)
    world.emu.control.closeGateway(4000)
    try {
      await until(() => world.runtime.feed?.status().state !== 'ready', 'the gateway to drop')
      const degraded = await health(world.runtime)
      expect(degraded.status).toBe(200)
      expect(degraded.body.status).toBe('degraded')
    } finally {
      world.emu.control.refuse(0)
      await until(() => world.runtime.feed?.status().state === 'ready', 'the gateway to resume')
    }
    expect((await health(world.runtime)).body.status).toBe('ok')
  })

  it('says down (503) when Discord refuses the bot token: an operator must act', async () => {
    const other = await startWorld()
    try {
      other.emu.control.closeGateway(4004)
      await until(() => other.runtime.feed?.status().state === 'stopped', 'the gateway to stop')
      const down = await health(other.runtime)
      expect(down.status).toBe(503)
      expect(down.body.status).toBe('down')
      expect(down.body.gateway).toMatchObject({ state: 'stopped' })
    } finally {
      await other.close()
    }
  })

  it('says down (503) and names them when the bot lacks guild permissions', async () => {
    // The bot's own role without Move Members (which @everyone does not grant either).
    const seed = structuredClone(DEFAULT_WORLD)
    seed.roles = seed.roles.map((role, i) =>
      i === 0
        ? role
        : {
            ...role,
            permissions: (BigInt(role.permissions) & ~PermissionFlagsBits.MoveMembers).toString(),
          },
    )
    const other = await startWorld({}, true, seed)
    try {
      const down = await health(other.runtime)
      expect(down.status).toBe(503)
      expect(down.body).toMatchObject({ status: 'down', missingPermissions: ['MoveMembers'] })
      expect(down.body.failingChecks).toEqual([
        expect.objectContaining({
          id: 'guild-permissions',
          message: 'the bot lacks Move Members in the server',
        }),
      ])
    } finally {
      await other.close()
    }
  })

  it('says down (503) when the app asks for Server Members and it is off: the gateway gets 4014, the intents check says why', async () => {
    const seed: WorldSeed = {
      ...structuredClone(DEFAULT_WORLD),
      application: { ...DEFAULT_WORLD.application, privilegedIntents: [] },
    }
    const other = await startWorld({ DISCORD_GUILD_MEMBERS_INTENT: '1' }, false, seed)
    try {
      await bootRuntime(other.runtime)
      await until(() => other.runtime.feed?.status().state === 'stopped', 'the gateway to stop')
      const down = await health(other.runtime)
      expect(down.status).toBe(503)
      expect(down.body.gateway).toMatchObject({ state: 'stopped' })
      expect(down.body.failingChecks).toEqual([
        expect.objectContaining({
          id: 'intents',
          fix: expect.stringContaining('"Server Members Intent"'),
        }),
      ])
    } finally {
      await other.close()
    }
  })

  it('says down (503) with the failing start-up check and its fix: the redirect is not registered', async () => {
    const other = await startWorld(
      { PUBLIC_URL: 'https://rooms.example' },
      true,
      DEFAULT_WORLD,
      false,
    )
    try {
      const down = await health(other.runtime)
      expect(down.status).toBe(503)
      expect(down.body).toMatchObject({ status: 'down', missingPermissions: [] })
      expect(down.body.failingChecks).toEqual([
        {
          id: 'redirect',
          title: 'OAuth2 redirect',
          message: expect.stringContaining('https://rooms.example/auth/callback is not registered'),
          fix: expect.stringContaining('OAuth2 → Redirects → Add Redirect'),
        },
      ])
    } finally {
      await other.close()
    }
  })

  it('answers at once for a runtime that has not started, as degraded', async () => {
    const other = await startWorld({}, false)
    try {
      const early = await health(other.runtime)
      expect(early.status).toBe(200)
      expect(early.body.status).toBe('degraded')
      expect(early.body.gateway).toMatchObject({ state: 'idle' })
    } finally {
      await other.close()
    }
  })

  it('/metrics serves the presence metrics as Prometheus text', async () => {
    const response = await routeHandler(
      MetricsRoute,
      'GET',
    )({
      request: get('/metrics'),
      context: { status: runtimeStatus(world.runtime, true), clientAddress: '127.0.0.1' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    expect(text).toContain('presence_frames_sent_total')
    expect(text).toContain('presence_gateway_to_socket_seconds')
  })
})
