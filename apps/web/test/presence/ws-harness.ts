import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ServerFrame } from '@repo/discord-integration/contracts'
import nodeAdapter from 'crossws/adapters/node'
import pino from 'pino'
import WebSocket from 'ws'
import type { EventBus } from '../../src/features/presence/event-bus'
import type { PresenceServiceOptions } from '../../src/features/presence/presence-options'
import {
  createPresenceService,
  type PresenceService,
} from '../../src/features/presence/presence-service.server'
import { cookieAuth, RoomTable, VoiceWorld } from './voice-world'

export const ORIGIN = 'http://app.test:3000'

export interface Harness {
  url: string
  service: PresenceService
  voice: VoiceWorld
  rooms: RoomTable
  close(): Promise<void>
}

/** Mounts the presence hooks on crossws' node adapter and a real node:http server. */
export async function startHarness(
  options: Partial<PresenceServiceOptions> = {},
  bus?: EventBus,
  voice: VoiceWorld = new VoiceWorld(),
  rooms: RoomTable = new RoomTable(),
): Promise<Harness> {
  const service = createPresenceService({
    voice,
    rooms,
    logger: pino({ level: 'silent' }),
    config: { PUBLIC_URL: `${ORIGIN}/` },
    authenticate: cookieAuth,
    ...(bus ? { bus } : {}),
    options,
  })
  const adapter = nodeAdapter({ hooks: service.hooks, idleTimeout: 0 })
  const server: Server = createServer((_req, res) => {
    res.statusCode = 426
    res.end()
  })
  server.on('upgrade', (req, socket, head) => {
    void adapter.handleUpgrade(req, socket, head)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}/api/ws`,
    service,
    voice,
    rooms,
    async close() {
      await service.stop()
      adapter.closeAll(undefined, undefined, true)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface TestClient {
  ws: WebSocket
  frames: ServerFrame[]
  closed: Promise<{ code: number; reason: string }>
  send(frame: unknown): void
  /** Resolves with the first frame (received from now on or already queued past `cursor`) matching. */
  next<T extends ServerFrame['type']>(
    type: T,
    predicate?: (frame: Extract<ServerFrame, { type: T }>) => boolean,
    ms?: number,
  ): Promise<Extract<ServerFrame, { type: T }>>
  close(): void
}

/** Opens a `ws` client; rejects with the HTTP status if the upgrade is refused. */
export function connect(
  url: string,
  opts: { userId?: string; origin?: string | null; autoPong?: boolean } = {},
): Promise<TestClient> {
  const headers: Record<string, string> = {}
  if (opts.userId) headers.cookie = `theme=dark; session=${opts.userId}`
  const origin = opts.origin === undefined ? ORIGIN : opts.origin
  const ws = new WebSocket(url, {
    headers,
    ...(origin === null ? {} : { origin }),
    autoPong: opts.autoPong ?? true,
  })
  const frames: ServerFrame[] = []
  const waiters = new Set<() => void>()
  let consumed = 0
  ws.on('message', (data, isBinary) => {
    // Every server frame is JSON text; one sent as binary shows up as a frame no test awaits.
    frames.push(
      isBinary
        ? ({ type: 'binary frame (protocol violation)' } as unknown as ServerFrame)
        : (JSON.parse(data.toString()) as ServerFrame),
    )
    for (const w of [...waiters]) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const w of [...waiters]) w()
    })
  })
  const client: TestClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(type, predicate, ms = 3000) {
      type F = Extract<ServerFrame, { type: typeof type }>
      return new Promise<F>((resolve, reject) => {
        const check = () => {
          while (consumed < frames.length) {
            const frame = frames[consumed++] as ServerFrame
            if (frame.type === type && (!predicate || predicate(frame as F))) {
              cleanup()
              resolve(frame as F)
              return
            }
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(
            new Error(`no ${type} frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`),
          )
        }, ms)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    close: () => ws.close(),
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client))
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }))
      ws.terminate()
    })
    ws.once('error', reject)
  })
}
