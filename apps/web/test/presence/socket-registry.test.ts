import { PresenceCloseCode } from '@repo/discord-integration/contracts'
import type { Peer } from 'crossws'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PresenceMetrics } from '../../src/features/presence/presence-metrics.server'
import {
  DEFAULT_PRESENCE_OPTIONS,
  type PresenceServiceOptions,
} from '../../src/features/presence/presence-options'
import type { PresenceSocket } from '../../src/features/presence/presence-socket'
import { SocketRegistry } from '../../src/features/presence/socket-registry.server'
import { sf } from './fixtures'

/** A peer that records what the registry does to it. */
function fakePeer() {
  return {
    bufferedAmount: 0,
    send: vi.fn(),
    close: vi.fn(),
    terminate: vi.fn(),
    ping: vi.fn(),
  }
}
type FakePeer = ReturnType<typeof fakePeer>

const user = (n: number) => ({ userId: sf(n), username: `u${n}`, globalName: null, avatar: null })

let registry: SocketRegistry
let forgotten: PresenceSocket[]

function start(options: Partial<PresenceServiceOptions> = {}) {
  forgotten = []
  registry = new SocketRegistry({
    metrics: new PresenceMetrics(),
    options: { ...DEFAULT_PRESENCE_OPTIONS, ...options },
    onForget: (socket) => forgotten.push(socket),
  })
}
function open(n: number, sessionId: string | null = null): [FakePeer, PresenceSocket] {
  const peer = fakePeer()
  return [peer, registry.open(peer as unknown as Peer, user(n), sessionId)]
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  registry.stop()
  vi.useRealTimers()
})

describe('socket registry', () => {
  it('closes the sockets of an ended login session with 4001, and only those', () => {
    start()
    const [a1, a1Socket] = open(1, 'session-a')
    const [a2] = open(1, 'session-a')
    const [b] = open(1, 'session-b')
    const [none] = open(2)
    expect(registry.sessionIds().sort()).toEqual(['session-a', 'session-b'])
    registry.closeSessions(['session-a', 'unknown'])
    for (const peer of [a1, a2]) {
      expect(peer.close).toHaveBeenCalledWith(PresenceCloseCode.Unauthenticated, 'session ended')
    }
    expect(b.close).not.toHaveBeenCalled()
    expect(none.close).not.toHaveBeenCalled()
    expect(forgotten).toContain(a1Socket)
    expect(registry.size).toBe(2)
    expect(registry.sessionIds()).toEqual(['session-b'])
    // A session's last socket going away by itself leaves nothing behind either.
    registry.closeSessions(['session-b'])
    expect(registry.sessionIds()).toEqual([])
  })

  it('pings each socket once per interval, one small group per 50 ms tick', () => {
    start({ pingIntervalMs: 1_000 }) // 20 groups
    const peers = Array.from({ length: 40 }, (_, i) => open(i)[0])
    const pinged = () => peers.filter((p) => p.ping.mock.calls.length > 0).length
    vi.advanceTimersByTime(50)
    expect(pinged()).toBe(2)
    vi.advanceTimersByTime(950)
    expect(pinged()).toBe(40)
    expect(peers.every((p) => p.ping.mock.calls.length === 1)).toBe(true)
  })

  it('closes a socket that did not answer since its last ping with 4013', () => {
    start({ pingIntervalMs: 1_000 })
    const [quiet, quietSocket] = open(1)
    const [answering, answeringSocket] = open(2)
    vi.advanceTimersByTime(1_000)
    answeringSocket.alive = true // what the pong hook does
    vi.advanceTimersByTime(1_000)
    expect(quiet.close).toHaveBeenCalledWith(PresenceCloseCode.PingTimeout, 'no pong')
    expect(forgotten).toEqual([quietSocket])
    expect(answering.close).not.toHaveBeenCalled()
    expect(answering.ping).toHaveBeenCalledTimes(2)
    expect(registry.size).toBe(1)
  })

  it('beyond the per-user limit, closes the user’s oldest socket with 4010', () => {
    start({ maxSocketsPerUser: 2 })
    const [oldest] = open(1)
    const [second] = open(1)
    open(2)
    expect(oldest.close).not.toHaveBeenCalled()
    open(1)
    expect(oldest.close).toHaveBeenCalledWith(PresenceCloseCode.TooManySockets, 'too many sockets')
    expect(second.close).not.toHaveBeenCalled()
    expect(registry.size).toBe(3)
  })

  it('drops a socket whose writes pile up with 4009 and writes nothing more to it', () => {
    start({ maxBufferedBytes: 100 })
    const [peer, socket] = open(1)
    expect(registry.write(socket, 'x')).toBe(true)
    peer.bufferedAmount = 101
    expect(registry.write(socket, Buffer.from('y'))).toBe(true)
    expect(peer.close).toHaveBeenCalledWith(
      PresenceCloseCode.SlowConsumer,
      'too much buffered: resume',
    )
    expect(registry.write(socket, 'z')).toBe(false)
    expect(peer.send).toHaveBeenCalledTimes(2)
    // Bytes go out as a text frame.
    expect(peer.send).toHaveBeenLastCalledWith(Buffer.from('y'), { binary: false, compress: false })
  })

  it('terminates a dropped socket that has not closed after the close grace', () => {
    start({ closeGraceMs: 5_000 })
    const [peer, socket] = open(1)
    registry.drop(socket, PresenceCloseCode.RateLimited, 'rate_limited', 'rate limited')
    vi.advanceTimersByTime(4_999)
    expect(peer.terminate).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(peer.terminate).toHaveBeenCalledTimes(1)
  })

  it('stops with 4012 to every socket and reports it stopped (the upgrade then answers 503)', () => {
    start()
    const [a] = open(1)
    const [b] = open(2)
    registry.stop()
    expect(a.close).toHaveBeenCalledWith(PresenceCloseCode.ShuttingDown, 'server restarting')
    expect(b.close).toHaveBeenCalledWith(PresenceCloseCode.ShuttingDown, 'server restarting')
    expect(registry.size).toBe(0)
    expect(registry.stopped).toBe(true)
  })
})
