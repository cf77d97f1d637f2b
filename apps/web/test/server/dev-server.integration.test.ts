import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { MAX_CLIENT_FRAME_BYTES } from '@repo/discord-integration/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

/**
 * `pnpm dev` (scripts/dev.mjs: the bundled emulator plus `vite dev`) as a developer runs it, for
 * what only the dev server can show: the WebSocket transport options that vite.config.ts patches
 * into Nitro's dev entry, and human-readable logs.
 */
const ROOT = resolve(import.meta.dirname, '../../../..')
const NODE = join(ROOT, 'node_modules/.bin/node')

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

let dev: ChildProcess | undefined
let devEnv: NodeJS.ProcessEnv = {}
let output = ''
let dataDir = ''
let base = ''
let emulatorUrl = ''

beforeAll(async () => {
  const [port, emulatorPort] = [await freePort(), await freePort()]
  base = `http://127.0.0.1:${port}`
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`
  dataDir = await mkdtemp(join(tmpdir(), 'tv-dev-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    EMULATOR_PORT: String(emulatorPort),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PUBLIC_URL: base,
  }
  devEnv = env
  // Its own process group: the emulator and Vite stop together.
  dev = spawn(NODE, ['scripts/dev.mjs'], { cwd: ROOT, env, detached: true })
  dev.stdout?.on('data', (chunk) => {
    output += chunk
  })
  dev.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const deadline = Date.now() + 90_000
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`pnpm dev exited:\n${output}`)
    const ok = await fetch(`${base}/api/health/live`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) throw new Error(`pnpm dev did not come up:\n${output}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}, 120_000)

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null) {
    const exited = new Promise((r) => dev?.once('exit', r))
    process.kill(-dev.pid, 'SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (dev.exitCode === null) process.kill(-dev.pid, 'SIGKILL')
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
}, 20_000)

/** `name=value` of every cookie a response sets. */
const cookiesSet = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .filter((pair) => !pair.endsWith('='))

/** Signs the emulator's first user in through the app's OAuth flow (authorize with `user_id`). */
async function signIn(): Promise<string> {
  const state = (await (await fetch(`${emulatorUrl}/_emulator/state`)).json()) as {
    users: { id: string; bot?: boolean }[]
  }
  const userId = state.users.find((u) => !u.bot)?.id ?? ''
  const login = await fetch(`${base}/auth/login`, { redirect: 'manual' })
  const authorize = new URL(login.headers.get('location') ?? '')
  authorize.searchParams.set('user_id', userId)
  const approved = await fetch(authorize, { redirect: 'manual' })
  const callback = await fetch(approved.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: { cookie: cookiesSet(login).join('; ') },
  })
  return cookiesSet(callback).join('; ')
}

describe('pnpm dev', () => {
  it("prints the server's log lines human-readable, not as JSON", async () => {
    // `runtime started` is logged once the gateway is up, soon after the first request
    const deadline = Date.now() + 30_000
    while (!output.includes('runtime started') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: runtime started$/m)
    expect(output).toMatch(/^\[[\d:.]+\] INFO: ([\w-]+: )?gateway READY/m)
    expect(output).not.toContain('Your Vite config uses features')
    expect(output).not.toMatch(/^\{"level":/m)
  }, 40_000)

  it('registers the OAuth2 redirect with its emulator: `pnpm doctor --emulator` passes, health lists no failing check', async () => {
    const doctor = await new Promise<{ code: number | null; out: string }>((done) => {
      let out = ''
      const child = spawn(NODE, ['scripts/doctor.mjs', '--emulator'], { cwd: ROOT, env: devEnv })
      child.stdout?.on('data', (chunk) => (out += chunk))
      child.stderr?.on('data', (chunk) => (out += chunk))
      child.on('exit', (code) => done({ code, out }))
    })
    expect(doctor.out).toContain(`ok    OAuth2 redirect`)
    expect(doctor.out).toContain(`${base}/auth/callback is registered`)
    expect(doctor.out).toContain(`${base}/api/health/live answers`)
    expect(doctor.out).toContain('All 11 checks hold.')
    expect(doctor.code).toBe(0)

    const deadline = Date.now() + 30_000
    while (!output.includes('runtime started') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const health = (await (await fetch(`${base}/api/health`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ missingPermissions: [], failingChecks: [] })
  }, 60_000)

  it('refuses a WebSocket frame over the protocol limit in the transport (close 1009)', async () => {
    const cookie = await signIn()
    expect(cookie).not.toBe('')
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, {
      headers: { cookie, origin: base },
    })
    await new Promise((done, fail) => {
      ws.once('open', done)
      ws.once('error', fail)
    })
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)))
    // Over the limit but small: the presence handler's own check would close it with 4014, after
    // the frame had been read whole; the transport's maxPayload answers 1009 from the header.
    ws.send('x'.repeat(MAX_CLIENT_FRAME_BYTES + 1))
    expect(await closed).toBe(1009)
  }, 60_000)
})
