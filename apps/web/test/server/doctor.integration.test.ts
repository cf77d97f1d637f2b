import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { DEFAULT_WORLD, type Emulator, emulatorEnv, startEmulator } from '@repo/discord-emulator'
import { createDiscordRest, type SetupCheck } from '@repo/discord-integration'
import { type APIChannel, PermissionFlagsBits as P, Routes } from 'discord-api-types/v10'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ROOM_CATEGORY_PREFIX } from '../../src/features/rooms/category-allocator.server'
import { Route as LiveRoute } from '../../src/routes/api/health.live'
import { runDoctor } from '../../src/server/setup-doctor'
import type { DoctorReport } from '../../src/server/setup-report'
import { routeHandler } from '../glue/route-handlers'

/*
 * `pnpm doctor` against the emulator over real sockets: a world set up as docs/discord-setup.md
 * says passes; each misconfiguration a self-hoster can make fails with its own message and fix,
 * and with exit code 1. PUBLIC_URL is served by the app's own /api/health/live handler; Redis is
 * the test machine's. The real CLI (scripts/doctor.mjs) runs as a child process too.
 */

const ROOT = resolve(import.meta.dirname, '../../../..')
const NODE = join(ROOT, 'node_modules/.bin/node')
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const SESSION_SECRET = 'doctor-test-session-secret-'.padEnd(48, 's')
const BOT_ROLE = DEFAULT_WORLD.bot.roles[0]!

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** The app's live probe handler on a real port: what PUBLIC_URL reaches when the server runs. */
let live: Server
let publicUrl = ''
let dataDir = ''
beforeAll(async () => {
  const handler = routeHandler(LiveRoute, 'GET')
  live = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', publicUrl)
    const response =
      url.pathname === '/api/health/live'
        ? await handler({ request: new Request(url), context: {} })
        : new Response('not found', { status: 404 })
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(await response.text())
  })
  await new Promise<void>((done) => live.listen(0, '127.0.0.1', done))
  const address = live.address()
  publicUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  dataDir = await mkdtemp(join(tmpdir(), 'tv-doctor-'))
})
afterAll(async () => {
  await new Promise((done) => live?.close(done))
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

let emu: Emulator | undefined
afterEach(async () => {
  await emu?.close()
  emu = undefined
})

/** An emulator set up as the guide says: the redirect registered, the bot installed. */
async function correctWorld(): Promise<Emulator> {
  emu = await startEmulator({ port: 0, quiet: true })
  emu.control.setApplication({ redirectUris: [`${publicUrl}/auth/callback`] })
  return emu
}

function envFor(e: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...emulatorEnv(e),
    SESSION_SECRET,
    PUBLIC_URL: publicUrl,
    DATA_DIR: dataDir,
    REDIS_URL,
    ...extra,
  }
}

const SECRETS = [
  SESSION_SECRET,
  DEFAULT_WORLD.application.clientSecret,
  DEFAULT_WORLD.extraApplications[0]!.clientSecret,
  'not-the-client-secret',
  'redis-password-123',
]

/** Every report must be free of secrets: the ones these tests configure, and any bot token. */
function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret)
  // Bot tokens: base64(bot id).<6>.<27+> (the emulator's shape, as Discord's).
  expect(text).not.toMatch(/[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}/)
}

async function doctor(env: Record<string, string>, argv: string[] = []) {
  let text = ''
  const code = await runDoctor({ env, argv, write: (t) => (text += t), timeoutMs: 3000 })
  let jsonText = ''
  await runDoctor({
    env,
    argv: [...argv, '--json'],
    write: (t) => (jsonText += t),
    timeoutMs: 3000,
  })
  expectNoSecret(text)
  expectNoSecret(jsonText)
  const report = JSON.parse(jsonText) as DoctorReport
  return { code, text, report, check: (id: string) => report.checks.find((c) => c.id === id)! }
}

/** The checks that do not hold, id → status. */
const notOk = (checks: SetupCheck[]) =>
  Object.fromEntries(checks.filter((c) => c.status !== 'ok').map((c) => [c.id, c.status]))

/** The line the human report prints for a check. */
const lineOf = (text: string, title: string) =>
  text.split('\n').find((line) => line.slice(6).startsWith(title)) ?? ''

describe('pnpm doctor', () => {
  it('passes (exit 0) on a correct setup, and prints the install link with the exact integer', async () => {
    const e = await correctWorld()
    const { code, text, report } = await doctor(envFor(e))
    expect(notOk(report.checks)).toEqual({})
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.checks.map((c) => c.id)).toEqual([
      'config',
      'bot-token',
      'application',
      'client-secret',
      'redirect',
      'intents',
      'guild',
      'guild-permissions',
      'category-permissions',
      'redis',
      'public-url',
    ])
    // View Channels, Manage Channels, Manage Roles, Connect, Speak, Video, Move Members, Create Invite
    const permissions = String(
      P.ViewChannel |
        P.ManageChannels |
        P.ManageRoles |
        P.Connect |
        P.Speak |
        P.Stream |
        P.MoveMembers |
        P.CreateInstantInvite,
    )
    expect(report.install?.permissions).toBe(permissions)
    const link = `${e.webUrl}/oauth2/authorize?client_id=${e.clientId}&scope=bot&permissions=${permissions}&guild_id=${e.guildId}`
    expect(report.install?.url).toBe(link)
    expect(text).toContain(`  ${link}\n`)
    expect(text).toContain('All 11 checks hold.')
    for (const line of text.split('\n').slice(5, 16)) expect(line).toMatch(/^ok {4}/)
  })

  it('fails on a bot token Discord refuses (the token was reset)', async () => {
    const e = await correctWorld()
    const env = envFor(e)
    e.control.resetBotToken()
    const { code, text, report, check } = await doctor(env)
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({
      'bot-token': 'fail',
      application: 'skipped',
      redirect: 'skipped',
      intents: 'skipped',
      guild: 'skipped',
      'guild-permissions': 'skipped',
      'category-permissions': 'skipped',
    })
    expect(check('bot-token').message).toBe('Discord refuses the bot token (401 Unauthorized)')
    expect(check('bot-token').fix).toContain('Bot → Reset Token')
    expect(lineOf(text, 'bot token')).toMatch(/^FAIL {2}bot token .*→ Fix: .*Reset Token/)
  })

  it('fails on the token of another application than DISCORD_CLIENT_ID', async () => {
    const e = await correctWorld()
    const other = DEFAULT_WORLD.extraApplications[0]!
    const { code, report, check } = await doctor(
      envFor(e, { DISCORD_CLIENT_ID: other.id, DISCORD_CLIENT_SECRET: other.clientSecret }),
    )
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({
      application: 'fail',
      redirect: 'skipped',
      intents: 'skipped',
    })
    expect(check('application').message).toBe(
      `the bot token belongs to application ${e.clientId} ("Table Voice (emulated)"), not to DISCORD_CLIENT_ID ${other.id}`,
    )
  })

  it('fails on a client secret Discord does not accept', async () => {
    const e = await correctWorld()
    const { code, report, check } = await doctor(
      envFor(e, { DISCORD_CLIENT_SECRET: 'not-the-client-secret' }),
    )
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ 'client-secret': 'fail' })
    expect(check('client-secret').fix).toContain('OAuth2 → Client Secret')
  })

  it('fails when the OAuth2 redirect is not registered', async () => {
    emu = await startEmulator({ port: 0, quiet: true })
    emu.control.setApplication({ redirectUris: ['https://elsewhere.example/auth/callback'] })
    const { code, report, check } = await doctor(envFor(emu))
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ redirect: 'fail' })
    expect(check('redirect').message).toBe(
      `${publicUrl}/auth/callback is not registered (registered: https://elsewhere.example/auth/callback); sign-in fails with "Invalid OAuth2 redirect_uri"`,
    )
    expect(check('redirect').fix).toContain(
      `OAuth2 → Redirects → Add Redirect: ${publicUrl}/auth/callback`,
    )
  })

  it('fails when the bot is not in the server, and still prints the install link', async () => {
    const e = await correctWorld()
    e.control.setBotMembership({ member: false })
    const { code, text, report, check } = await doctor(envFor(e))
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({
      guild: 'fail',
      'guild-permissions': 'skipped',
      'category-permissions': 'skipped',
    })
    expect(check('guild').message).toContain(
      `the bot is not in the server DISCORD_GUILD_ID ${e.guildId}`,
    )
    expect(check('guild').fix).toContain('install link')
    expect(text).toContain(`/oauth2/authorize?client_id=${e.clientId}&scope=bot&permissions=`)
  })

  it('checks every pool server (DISCORD_GUILD_IDS): a server without the bot fails by its id', async () => {
    const e = await correctWorld()
    const owner = e.control.createUser({ username: 'pool_doctor_owner' })
    const ready = e.control.createGuild({ name: 'Pool ready', ownerId: owner.id }).id
    const missing = e.control.createGuild({
      name: 'Pool missing',
      ownerId: owner.id,
      bot: false,
    }).id
    const passing = await doctor(envFor(e, { DISCORD_GUILD_IDS: ready }))
    expect(passing.code).toBe(0)
    expect(passing.report.checks.filter((c) => c.title.includes(ready))).toHaveLength(3)
    const { code, text, report } = await doctor(
      envFor(e, { DISCORD_GUILD_IDS: `${ready},${missing}` }),
    )
    expect(code).toBe(1)
    const failing = report.checks.filter((c) => c.status !== 'ok')
    expect(failing.map((c) => [c.id, c.status, c.title])).toEqual([
      ['guild', 'fail', `bot in the server (${missing})`],
      ['guild-permissions', 'skipped', `server permissions (${missing})`],
      ['category-permissions', 'skipped', `room category permissions (${missing})`],
    ])
    expect(failing[0]?.message).toContain(missing)
    expect(lineOf(text, `bot in the server (${missing})`)).toMatch(/^FAIL /)
  })

  it('fails naming the permission the bot lacks in the server', async () => {
    const e = await correctWorld()
    const role = DEFAULT_WORLD.roles.find((r) => r.id === BOT_ROLE)!
    e.control.setRolePermissions({
      roleId: BOT_ROLE,
      permissions: String(BigInt(role.permissions) & ~P.MoveMembers),
    })
    const { code, text, report, check } = await doctor(envFor(e))
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ 'guild-permissions': 'fail' })
    expect(check('guild-permissions').message).toBe('the bot lacks Move Members in the server')
    expect(check('guild-permissions').fix).toContain(
      'Server Settings → Roles → the role "Table Voice" → Permissions: turn on Move Members',
    )
    expect(lineOf(text, 'server permissions')).toMatch(/^FAIL .*Move Members/)
  })

  it('fails naming the permission an overwrite of the room category denies', async () => {
    const e = await correctWorld()
    const rest = createDiscordRest({ api: e.restBase, token: e.botToken })
    // The category as the app creates it, then an admin's change to its permissions.
    const category = (await rest.post(Routes.guildChannels(e.guildId), {
      body: {
        name: `${ROOM_CATEGORY_PREFIX} 1`,
        type: 4,
        permission_overwrites: [
          { id: e.guildId, type: 0, deny: String(P.ViewChannel | P.Connect) },
          { id: e.botUserId, type: 1, allow: String(P.ViewChannel | P.Connect) },
        ],
      },
    })) as APIChannel
    e.control.setChannelOverwrite({
      channelId: category.id,
      id: e.botUserId,
      type: 1,
      allow: String(P.ViewChannel | P.Connect),
      deny: String(P.MoveMembers),
    })
    const { code, report, check } = await doctor(envFor(e))
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ 'category-permissions': 'fail' })
    expect(check('category-permissions').message).toBe(
      `"${ROOM_CATEGORY_PREFIX} 1" takes Move Members away from the bot (denied by the overwrite for the bot itself)`,
    )
    expect(check('category-permissions').fix).toContain('Edit Category → Permissions')
  })

  it('fails when the app asks for the privileged Server Members intent and it is off', async () => {
    const e = await correctWorld()
    e.control.setApplication({ privilegedIntents: [] })
    const { code, report, check } = await doctor(envFor(e, { DISCORD_GUILD_MEMBERS_INTENT: '1' }))
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ intents: 'fail' })
    expect(check('intents').fix).toContain(
      'Privileged Gateway Intents → switch on "Server Members Intent"',
    )
    // Switched on, the same configuration passes; not asked for, it does not matter.
    e.control.setApplication({ privilegedIntents: ['GUILD_MEMBERS'] })
    expect((await doctor(envFor(e, { DISCORD_GUILD_MEMBERS_INTENT: '1' }))).code).toBe(0)
    e.control.setApplication({ privilegedIntents: [] })
    expect((await doctor(envFor(e))).code).toBe(0)
  })

  it('fails when Redis is configured and does not answer', async () => {
    const e = await correctWorld()
    const port = await freePort()
    const { code, report, check } = await doctor(
      envFor(e, { REDIS_URL: `redis://tv:redis-password-123@127.0.0.1:${port}` }),
    )
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ redis: 'fail' })
    expect(check('redis').message).toBe(
      `Redis at redis://127.0.0.1:${port} does not answer (ECONNREFUSED)`,
    )
  })

  it('fails clearly when nothing runs at PUBLIC_URL yet, and --skip public-url leaves it out', async () => {
    const e = await correctWorld()
    const down = `http://127.0.0.1:${await freePort()}`
    e.control.setApplication({ redirectUris: [`${down}/auth/callback`] })
    const env = envFor(e, { PUBLIC_URL: down })
    const { code, report, check } = await doctor(env)
    expect(code).toBe(1)
    expect(notOk(report.checks)).toEqual({ 'public-url': 'fail' })
    expect(check('public-url').message).toBe(
      `nothing is running at ${down} yet (connection refused)`,
    )
    expect(check('public-url').fix).toContain('pnpm start')
    const skipped = await doctor(env, ['--skip', 'public-url'])
    expect(skipped.code).toBe(0)
    expect(skipped.check('public-url').status).toBe('skipped')
  })

  it('fails on a configuration the server would refuse, naming every problem', async () => {
    const e = await correctWorld()
    const { DISCORD_BOT_TOKEN: _token, ...env } = envFor(e, { SESSION_SECRET: 'short' })
    const { code, report, check } = await doctor(env)
    expect(code).toBe(1)
    expect(check('config').status).toBe('fail')
    expect(check('config').message).toContain('DISCORD_BOT_TOKEN: not set')
    expect(check('config').message).toContain('SESSION_SECRET: SESSION_SECRET must be at least 32')
    expect(
      report.checks.filter((c) => c.id !== 'config').every((c) => c.status === 'skipped'),
    ).toBe(true)
  })

  it('answers a usage error with exit code 2', async () => {
    let text = ''
    const code = await runDoctor({ env: {}, argv: ['--skip', 'nope'], write: (t) => (text += t) })
    expect(code).toBe(2)
    expect(text).toContain('--skip nope: no such check')
  })

  it('runs as `node scripts/doctor.mjs`: exit 0 on a correct setup, 1 with the failing line', async () => {
    const e = await correctWorld()
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        let out = ''
        const child = spawn(NODE, ['scripts/doctor.mjs'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        })
        child.stdout.on('data', (chunk) => (out += chunk))
        child.stderr.on('data', (chunk) => (out += chunk))
        child.on('exit', (code) => done({ code, out }))
      })
    const pass = await run(envFor(e))
    expectNoSecret(pass.out)
    expect(pass.out).toContain('All 11 checks hold.')
    expect(pass.code).toBe(0)

    e.control.setApplication({ redirectUris: [] })
    const fail = await run(envFor(e))
    expectNoSecret(fail.out)
    expect(fail.code).toBe(1)
    expect(lineOf(fail.out, 'OAuth2 redirect')).toMatch(
      /^FAIL {2}OAuth2 redirect +http:\/\/127\.0\.0\.1:\d+\/auth\/callback is not registered/,
    )
  }, 60_000)
})
