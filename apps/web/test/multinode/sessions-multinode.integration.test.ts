import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@repo/discord-emulator'
import { isAppError } from '@repo/discord-integration'
import nodeAdapter from 'crossws/adapters/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { requireCaller } from '../../src/features/auth/session.server'
import {
  bootRuntime,
  createRuntime,
  type Runtime,
  shutdownRuntime,
} from '../../src/server/runtime.server'
import { newPlayer, sessionCookie } from '../glue/sessions'
import { emulatorConfig, logger } from '../rooms/harness'
import { REDIS_URL, testPrefix } from './nodes'

/**
 * Two web runtimes on one Redis, as two nodes behind a load balancer: a session signed out on
 * node A ends at once on node B, whose open sockets of that session close with 4001.
 */

const PUBLIC_URL = 'http://127.0.0.1:3993'
let emu: Emulator
let dir: string
let run: ReturnType<typeof testPrefix>
let a: Runtime
let b: Runtime
let server: Server
let wsUrl: string
let closeAdapter: () => void

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true })
  dir = await mkdtemp(join(tmpdir(), 'tv-sessions-multinode-'))
  run = testPrefix()
  const config = () =>
    emulatorConfig(emu, {
      SESSION_SECRET: 'n'.repeat(40),
      PUBLIC_URL,
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      // Readers of the voice stream, with no gateway: none is needed here.
      GATEWAY_MODE: 'worker',
      REDIS_URL,
      REDIS_PREFIX: run.prefix,
    })
  a = createRuntime(config(), { logger })
  b = createRuntime(config(), { logger })
  await bootRuntime(a)
  await bootRuntime(b)
  // Node B's /api/ws on a real socket.
  const adapter = nodeAdapter({ hooks: b.presence.hooks })
  closeAdapter = () => adapter.closeAll(undefined, undefined, true)
  server = createServer((_req, res) => {
    res.statusCode = 426
    res.end()
  })
  server.on('upgrade', (req, socket, head) => {
    void adapter.handleUpgrade(req, socket, head)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  wsUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/ws`
})

afterAll(async () => {
  closeAdapter?.()
  server?.closeAllConnections()
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()))
  if (a) await shutdownRuntime(a)
  if (b) await shutdownRuntime(b)
  await emu?.close()
  await run?.cleanup()
  await rm(dir, { recursive: true, force: true })
})

/** A socket on node B: resolves once open (with a promise of its close code), or with the refusal. */
function openOnB(cookie: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers: { cookie, origin: PUBLIC_URL } })
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)))
    ws.once('open', () => resolve({ ws, closed }))
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

const within = <T>(promise: Promise<T>, ms = 5000) =>
  Promise.race([
    promise,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error('timed out')), ms)),
  ])

describe('login sessions across two nodes on one Redis', () => {
  it('signing out on node A closes the session’s sockets on node B (4001) and B refuses its cookie at once', async () => {
    const player = newPlayer(emu)
    const cookie = await sessionCookie(a.auth, player)
    const sameUserElsewhere = await sessionCookie(a.auth, player)
    const [first, second] = [await openOnB(cookie), await openOnB(cookie)]
    const other = await openOnB(sameUserElsewhere)
    // Node B has the session in its cache now.
    expect((await b.auth.readSession(cookie)).state).toBe('active')
    try {
      await a.auth.logout(cookie)
      expect(await within(first.closed)).toBe(4001)
      expect(await within(second.closed)).toBe(4001)
      expect(other.ws.readyState).toBe(WebSocket.OPEN)
      expect((await b.auth.readSession(cookie)).state).toBe('ended')
      const refused = await requireCaller(b.auth, cookie, () => {}).catch((e: unknown) => e)
      expect(isAppError(refused, 'SESSION_EXPIRED')).toBe(true)
      await expect(openOnB(cookie)).rejects.toMatchObject({ status: 401 })
      expect((await b.auth.readSession(sameUserElsewhere)).state).toBe('active')
    } finally {
      for (const s of [first, second, other]) s.ws.terminate()
    }
  })

  it('signing out everywhere on node A ends every session of the user on node B, and nobody else’s', async () => {
    const player = newPlayer(emu)
    const bystander = newPlayer(emu)
    const phone = await sessionCookie(b.auth, player)
    const laptop = await sessionCookie(a.auth, player)
    const theirs = await sessionCookie(a.auth, bystander)
    const onPhone = await openOnB(phone)
    const onLaptop = await openOnB(laptop)
    const bystanders = await openOnB(theirs)
    try {
      await a.auth.logoutEverywhere(laptop)
      expect(await within(onPhone.closed)).toBe(4001)
      expect(await within(onLaptop.closed)).toBe(4001)
      expect(bystanders.ws.readyState).toBe(WebSocket.OPEN)
      expect((await b.auth.readSession(phone)).state).toBe('ended')
      expect((await b.auth.readSession(theirs)).state).toBe('active')
    } finally {
      for (const s of [onPhone, onLaptop, bystanders]) s.ws.terminate()
    }
  })
})
