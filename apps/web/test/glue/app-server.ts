import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Emulator, emulatorEnv } from '@repo/discord-emulator'
import { fromCrossJSON, toJSONAsync } from 'seroval'

const WEB_DIR = resolve(import.meta.dirname, '../..')

/**
 * The web app served by `vite dev` in a child process, pointed at an emulator that runs in the
 * test's own process (so a test scripts Discord's side directly). For what only TanStack Start
 * itself decides: how a server function's middleware runs, how its errors are answered, what a
 * malformed request gets. Everything a browser would send, a test sends as a plain Request.
 */
export interface AppServer {
  readonly url: string
  /** The SESSION_SECRET the server runs with (it signs session cookies and seals stored tokens). */
  readonly secret: string
  /**
   * Calls a server function of features/rooms/rooms.functions.ts (or
   * features/servers/servers.functions.ts) as the browser does.
   */
  call(name: string, data?: unknown, init?: { cookie?: string }): Promise<Response>
  /** POSTs a raw body to the server-function endpoint of `name` (or of an unknown id). */
  post(idOrName: string, body: string, init?: { cookie?: string }): Promise<Response>
  /** The server's output so far (for a failure message). */
  output(): string
  close(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** The environment of the child: the test's own minus Vitest's markers (they switch the runtime off). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VITEST') && key !== 'TEST') env[key] = value
  }
  return { ...env, NODE_ENV: 'development', ...extra }
}

/**
 * Starts `vite dev` for apps/web against `emu` and waits until its gateway is ready. The server
 * function ids are read from the client module Vite serves, as a browser gets them.
 */
export async function startAppServer(
  emu: Emulator,
  options: { env?: Record<string, string> } = {},
): Promise<AppServer> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const secret = 'glue-test-secret-'.padEnd(48, 'x')
  const dataDir = await mkdtemp(join(tmpdir(), 'tv-glue-'))
  // As pnpm dev does: the app's redirect is registered, so its start-up check passes.
  emu.control.setApplication({ redirectUris: [`${url}/auth/callback`] })
  let output = ''
  const child: ChildProcess = spawn(
    join(WEB_DIR, 'node_modules/.bin/vite'),
    ['dev', '--port', String(port), '--strictPort', '--host', '127.0.0.1'],
    {
      cwd: WEB_DIR,
      env: childEnv({
        ...emulatorEnv(emu),
        SESSION_SECRET: secret,
        PUBLIC_URL: url,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        ...options.env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  )
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>((done) => child.once('exit', () => done()))

  const close = async () => {
    if (child.exitCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM')
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }

  try {
    await waitForHealthy(url, child, () => output)
    const ids = await serverFnIds(url)
    const idOf = (name: string) => ids.get(name) ?? name
    const post: AppServer['post'] = (idOrName, body, init = {}) =>
      fetch(`${url}/_serverFn/${idOf(idOrName)}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-tsr-serverfn': 'true',
          origin: url,
          ...(init.cookie ? { cookie: init.cookie } : {}),
        },
        body,
      })
    return {
      url,
      secret,
      post,
      async call(name, data, init = {}) {
        if (name === 'getHome') {
          return fetch(`${url}/_serverFn/${idOf(name)}`, {
            headers: {
              'x-tsr-serverfn': 'true',
              'sec-fetch-site': 'same-origin',
              ...(init.cookie ? { cookie: init.cookie } : {}),
            },
          })
        }
        // What Start's browser client sends: the payload serialized with seroval, or no body.
        const body = data === undefined ? undefined : JSON.stringify(await toJSONAsync({ data }))
        return fetch(`${url}/_serverFn/${idOf(name)}`, {
          method: 'POST',
          headers: {
            'x-tsr-serverfn': 'true',
            origin: url,
            ...(body ? { 'content-type': 'application/json' } : {}),
            ...(init.cookie ? { cookie: init.cookie } : {}),
          },
          ...(body ? { body } : {}),
        })
      },
      output: () => output,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

/** The result of a successful server-function answer (Start serializes `{result}` with seroval). */
export async function resultOf<T>(response: Response): Promise<T> {
  if (response.status !== 200) {
    throw new Error(`server function answered ${response.status}: ${await response.text()}`)
  }
  const decoded = fromCrossJSON(await response.json(), { refs: new Map() }) as { result: T }
  return decoded.result
}

async function waitForHealthy(url: string, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 90_000
  let last = ''
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite dev exited:\n${output()}`)
    try {
      const res = await fetch(`${url}/api/health`)
      last = await res.text()
      if ((JSON.parse(last) as { status?: string }).status === 'ok') return
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250))
  }
  throw new Error(`the app did not become healthy: ${last}\n${output()}`)
}

/** The client modules whose server functions a test may call. */
const SERVER_FN_MODULES = [
  'src/features/rooms/rooms.functions.ts',
  'src/features/servers/servers.functions.ts',
]

/** Server function name -> id, from the `createClientRpc("<id>")` calls of the client modules. */
async function serverFnIds(url: string): Promise<Map<string, string>> {
  const sources = await Promise.all(
    SERVER_FN_MODULES.map(async (path) => (await fetch(`${url}/${path}`)).text()),
  )
  const source = sources.join('\n')
  const ids = new Map<string, string>()
  for (const [, id] of source.matchAll(/createClientRpc\(\s*"([^"]+)"\s*\)/g)) {
    if (!id) continue
    // In dev an id is base64url JSON naming the module and `<name>_createServerFn_handler`.
    const meta = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as { export: string }
    ids.set(meta.export.replace(/_createServerFn_handler$/, ''), id)
  }
  if (ids.size === 0) throw new Error('no server function ids in the client module')
  return ids
}
