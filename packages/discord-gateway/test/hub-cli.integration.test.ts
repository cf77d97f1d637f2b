import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { HubReceiver } from '../src/hub/hub-receiver'
import { createHubReceiver } from '../src/hub/hub-receiver'
import type { Emulator } from './support/harness'
import { eventually, startTestEmulator, voiceChannels } from './support/harness'

const BIN = fileURLToPath(new URL('../bin/discord-gateway-hub.mjs', import.meta.url))
const SECRET = 's'.repeat(48)

let child: ChildProcess | null = null
let server: Server | null = null
let emu: Emulator | null = null
afterEach(async () => {
  child?.kill('SIGKILL')
  child = null
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = null
  await emu?.close()
  emu = null
})

/** Serves a HubReceiver over node:http, as the web server would mount it. */
async function serve(receiver: HubReceiver): Promise<string> {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const response = await receiver.handle(
      new Request(`http://127.0.0.1${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        body: Buffer.concat(chunks),
      }),
    )
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  })
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()))
  const address = server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/internal/voice`
}

describe('hub mode process', () => {
  it('runs the gateway in its own process and mirrors the voice state into the web server', async () => {
    emu = await startTestEmulator({ heartbeatIntervalMs: 1000 })
    const e = emu
    const users = e.control
      .state()
      .users.filter((u) => !u.bot)
      .map((u) => u.id)
    const channels = voiceChannels(e)
    e.control.setVoice({ userId: users[0] as string, channelId: channels[0] as string })
    const receiver = createHubReceiver({ secret: SECRET, guildId: e.guildId })
    const url = await serve(receiver)
    child = spawn(process.execPath, [BIN], {
      env: {
        ...process.env,
        DISCORD_API_URL: e.restBase,
        DISCORD_BOT_TOKEN: e.botToken,
        DISCORD_GUILD_ID: e.guildId,
        HUB_URL: url,
        HUB_SECRET: SECRET,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (d) => {
      stderr += String(d)
    })
    const truth = () =>
      e.control
        .state()
        .voiceStates.map((v) => [v.userId, v.channelId, v.selfMute])
        .sort()
    const mirrored = () =>
      receiver
        .snapshot()
        .members.map((m) => [m.userId, m.channelId, m.selfMute])
        .sort()
    await eventually(() => {
      expect(receiver.synced).toBe(true)
      expect(mirrored()).toEqual(truth())
    }, 15_000)
    e.control.setVoice({
      userId: users[1] as string,
      channelId: channels[0] as string,
      selfMute: true,
    })
    e.control.setVoice({ userId: users[0] as string, channelId: null })
    await eventually(() => expect(mirrored()).toEqual(truth()))
    const exit = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exit).toBe(0)
    expect(stderr).toBe('')
  }, 30_000)
})
