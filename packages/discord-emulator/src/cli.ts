import { parseArgs } from 'node:util'
import { emulatorEnv } from './app-env.ts'
import { startEmulator } from './emulator-server.ts'

const USAGE = `Usage: discord-emulator [--port <n>] [--host <addr>] [--world <file.json>]
                        [--heartbeat-ms <n>] [--print-env] [--quiet]

Starts a local Discord (Gateway v10, REST v10, OAuth2). Prints the REST base and web URL,
or with --print-env the env lines an app needs (DISCORD_API_URL, DISCORD_WEB_URL, ...).`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      world: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'print-env': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const port = Number(values.port)
  const heartbeat =
    values['heartbeat-ms'] === undefined ? undefined : Number(values['heartbeat-ms'])
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`bad --port ${values.port}`)
  if (heartbeat !== undefined && (!Number.isInteger(heartbeat) || heartbeat < 50)) {
    throw new Error(`bad --heartbeat-ms ${values['heartbeat-ms']}`)
  }
  const printEnv = values['print-env']
  const emu = await startEmulator({
    port,
    host: values.host,
    ...(values.world ? { world: values.world } : {}),
    ...(heartbeat !== undefined ? { heartbeatIntervalMs: heartbeat } : {}),
    // Keep stdout parseable in --print-env mode.
    quiet: values.quiet || printEnv,
  })
  if (printEnv) {
    for (const [k, v] of Object.entries(emulatorEnv(emu))) process.stdout.write(`${k}=${v}\n`)
  } else {
    process.stdout.write(
      `Discord emulator ready\n  REST base: ${emu.restBase}\n  Web URL:   ${emu.webUrl}\n  Panel:     ${emu.webUrl}/_emulator\n  Gateway:   ${emu.gatewayUrl} (resume: ${emu.resumeGatewayUrl})\n`,
    )
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
    setTimeout(() => process.exit(1), 3000).unref()
    if (!printEnv && !values.quiet) process.stderr.write(`${signal}: closing\n`)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  process.stderr.write(`discord-emulator: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
