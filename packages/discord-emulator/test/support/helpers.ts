import { REST } from '@discordjs/rest'
import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws'
import type { GatewayDispatchPayload } from 'discord-api-types/v10'
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/index.ts'
import { DEFAULT_WORLD } from '../../src/world/default-world.ts'

/** Ids of the default world, by name. */
export const W = {
  guild: DEFAULT_WORLD.guild.id,
  bot: DEFAULT_WORLD.bot.id,
  botRole: DEFAULT_WORLD.roles[1]!.id,
  owner: DEFAULT_WORLD.users[0]!.id,
  users: DEFAULT_WORLD.users.map((u) => u.id),
  memberA: DEFAULT_WORLD.users[1]!.id,
  memberB: DEFAULT_WORLD.users[2]!.id,
  memberC: DEFAULT_WORLD.users[3]!.id,
  nonMember: DEFAULT_WORLD.users[4]!.id,
  nonMember2: DEFAULT_WORLD.users[5]!.id,
  category: DEFAULT_WORLD.channels[0]!.id,
  text: DEFAULT_WORLD.channels[1]!.id,
  lobby: DEFAULT_WORLD.channels[2]!.id,
  table2: DEFAULT_WORLD.channels[3]!.id,
} as const

/** Starts a quiet emulator with test-friendly timings. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ quiet: true, heartbeatIntervalMs: 400, ...options })
}

/** Polls until `check` returns a truthy value. */
export async function waitFor<T>(
  check: () => T | undefined | null | false,
  timeoutMs = 10_000,
  label = 'condition',
): Promise<T> {
  const start = Date.now()
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A REST client pointed at the emulator (bot token). */
export function botRest(
  emu: Emulator,
  options: Partial<ConstructorParameters<typeof REST>[0]> = {},
): REST {
  return new REST({ api: emu.restBase, ...options }).setToken(emu.botToken)
}

/** A @discordjs/ws manager pointed at the emulator that records everything it sees. */
export function recordingManager(
  emu: Emulator,
  opts: { intents?: number; gatewayToken?: string; restToken?: string } = {},
) {
  const rest = new REST({ api: emu.restBase }).setToken(opts.restToken ?? emu.botToken)
  const manager = new WebSocketManager({
    token: opts.gatewayToken ?? emu.botToken,
    intents: opts.intents ?? 131,
    rest,
  })
  const dispatches: GatewayDispatchPayload[] = []
  const closes: number[] = []
  const errors: Error[] = []
  let readies = 0
  let resumed = 0
  manager.on(WebSocketShardEvents.Dispatch, (payload) => {
    dispatches.push(payload)
  })
  manager.on(WebSocketShardEvents.Closed, (code) => {
    closes.push(code)
  })
  manager.on(WebSocketShardEvents.Error, (err) => {
    errors.push(err)
  })
  manager.on(WebSocketShardEvents.Ready, () => {
    readies++
  })
  manager.on(WebSocketShardEvents.Resumed, () => {
    resumed++
  })
  return {
    manager,
    dispatches,
    closes,
    errors,
    get readies() {
      return readies
    },
    get resumed() {
      return resumed
    },
    /** Dispatches of one type, in order. */
    of<T extends GatewayDispatchPayload['t']>(t: T) {
      return dispatches.filter((d): d is Extract<GatewayDispatchPayload, { t: T }> => d.t === t)
    },
  }
}

/** A minimal fetch wrapper returning status, parsed JSON body and headers. */
export async function api(
  emu: Emulator,
  method: string,
  path: string,
  opts: {
    body?: unknown
    token?: string | null
    auth?: string
    headers?: Record<string, string>
  } = {},
) {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.auth) headers.authorization = opts.auth
  else if (opts.token !== null) headers.authorization = `Bot ${opts.token ?? emu.botToken}`
  let body: string | undefined
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(`${emu.restBase}/v10${path}`, { method, headers, body })
  const text = await res.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = text
  }
  // biome-ignore lint/suspicious/noExplicitAny: test helper; assertions narrow the shape
  return { status: res.status, body: json as any, headers: res.headers }
}
