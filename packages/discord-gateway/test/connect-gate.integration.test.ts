import { REST } from '@discordjs/rest'
import { GatewayDispatchEvents } from 'discord-api-types/v10'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionTimings } from '../src/gateway/connection-options'
import { DEFAULT_TIMINGS } from '../src/gateway/connection-options'
import { GatewayConnection } from '../src/gateway/gateway-connection'
import { StatusTracker } from '../src/gateway-status'
import type { Emulator } from './support/harness'
import { eventually, holdsFor, startTestEmulator, testLogger } from './support/harness'
import { gatewayUrl, RawGatewaySocket } from './support/raw-socket'

/**
 * The connection's gate (`mayConnect`): asked before every socket and every IDENTIFY. A process
 * that may no longer speak for the session (its failover lease is lost) never opens a socket on
 * it and leaves it resumable for the one that may.
 */
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TIMINGS: ConnectionTimings = {
  ...DEFAULT_TIMINGS,
  backoff: { baseMs: 20, maxMs: 100 },
  identifySpacingMs: 0,
  defaultHeartbeatMs: 250,
  handshakeTimeoutMs: 2_000,
  helloTimeoutMs: 2_000,
  readyTimeoutMs: 3_000,
}

async function emulator(): Promise<Emulator> {
  const emu = await startTestEmulator()
  cleanups.push(() => emu.close())
  return emu
}

/**
 * A connection to the emulator whose gate answers from `gate`; records, for each call, how many
 * sockets the emulator had open (0 = asked before a socket, 1 = asked on an open one).
 */
function connectionWith(emu: Emulator, gate: (call: number) => boolean) {
  const status = new StatusTracker()
  const dispatches: string[] = []
  let sessionId: string | null = null
  let seq = 0
  let calls = 0
  const socketsAtCall: number[] = []
  const connection = new GatewayConnection({
    token: emu.botToken,
    guildMembersIntent: false,
    rest: new REST({ api: emu.restBase, version: '10' }).setToken(emu.botToken),
    logger: testLogger,
    status,
    timings: TIMINGS,
    onDispatch(payload) {
      dispatches.push(payload.t)
      if (payload.t === GatewayDispatchEvents.Ready) sessionId = payload.d.session_id
      seq = payload.s
    },
    appliedSequence: (id) => (id === sessionId ? seq : null),
    mayConnect: async () => {
      socketsAtCall.push(emu.control.stats().connections)
      return gate(++calls)
    },
  })
  cleanups.push(() => connection.stop())
  return {
    connection,
    status,
    dispatches,
    socketsAtCall,
    get session() {
      return sessionId ? { sessionId, seq } : null
    },
  }
}

describe('the connect gate', () => {
  it('refused before the first socket: the connection stops without opening one', async () => {
    const emu = await emulator()
    const c = connectionWith(emu, () => false)
    c.connection.start()
    await eventually(() => expect(c.status.state).toBe('stopped'))
    expect(c.status.get().stoppedReason).toMatch(/lease not held/)
    await holdsFor(300, () =>
      expect(emu.control.stats()).toMatchObject({ identifies: 0, connections: 0, resumes: 0 }),
    )
    expect(c.socketsAtCall).toEqual([0])
  })

  it('refused at a reconnect: no new socket, and the session stays resumable for another process', async () => {
    const emu = await emulator()
    // 1st call: the first socket; 2nd: its IDENTIFY; 3rd: the reconnect after the close below.
    const c = connectionWith(emu, (call) => call <= 2)
    c.connection.start()
    await eventually(() => expect(c.status.state).toBe('ready'))
    await eventually(() => expect(c.dispatches).toContain(GatewayDispatchEvents.GuildCreate))
    const session = c.session as { sessionId: string; seq: number }
    emu.control.closeGateway(4000) // resumable: the library wants to resume
    await eventually(() => expect(c.status.state).toBe('stopped'))
    await holdsFor(300, () => expect(emu.control.stats().connections).toBe(0))
    expect(emu.control.stats()).toMatchObject({ identifies: 1, resumes: 0, sessions: 1 })
    expect(c.socketsAtCall).toEqual([0, 1, 0])
    // Whoever may speak for the session now resumes it.
    const other = await RawGatewaySocket.open(gatewayUrl(emu.resumeGatewayUrl))
    cleanups.push(async () => other.close())
    other.send({
      op: 6,
      d: { token: emu.botToken, session_id: session.sessionId, seq: session.seq },
    })
    await other.next((f) => f.op === 0 && f.t === GatewayDispatchEvents.Resumed)
  })

  it('refused before an IDENTIFY: the open socket is closed without identifying', async () => {
    const emu = await emulator()
    const c = connectionWith(emu, (call) => call === 1)
    c.connection.start()
    await eventually(() => expect(c.status.state).toBe('stopped'))
    await holdsFor(300, () =>
      expect(emu.control.stats()).toMatchObject({ identifies: 0, connections: 0 }),
    )
    expect(c.socketsAtCall).toEqual([0, 1])
  })

  it('stop() while connected closes with a resumable code (4200, never 1000/1001)', async () => {
    const emu = await emulator()
    const c = connectionWith(emu, () => true)
    c.connection.start()
    await eventually(() => expect(c.dispatches).toContain(GatewayDispatchEvents.GuildCreate))
    const session = c.session as { sessionId: string; seq: number }
    await c.connection.stop('stepping down')
    await eventually(() => expect(emu.control.stats().activeSessions).toBe(0))
    expect(emu.control.stats().sessions).toBe(1) // still resumable
    const other = await RawGatewaySocket.open(gatewayUrl(emu.resumeGatewayUrl))
    cleanups.push(async () => other.close())
    other.send({
      op: 6,
      d: { token: emu.botToken, session_id: session.sessionId, seq: session.seq },
    })
    await other.next((f) => f.op === 0 && f.t === GatewayDispatchEvents.Resumed)
  })
})
