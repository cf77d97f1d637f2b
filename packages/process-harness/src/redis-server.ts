import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ManagedProcess, spawnProcess } from './managed-process'
import { freePort } from './ports'
import { redisCommand } from './redis-command'
import { waitUntil } from './wait'

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** @defaultValue a free loopback port */
  port?: number
  /**
   * `none`: nothing is saved (a restart loses everything); `aof`: append-only file fsynced
   * every second (a restart keeps what was written up to about a second before).
   * @defaultValue 'none'
   */
  persistence?: 'none' | 'aof'
  /** With `aof`: fsync every write (`always`) or every second. @defaultValue 'everysec' */
  fsync?: 'always' | 'everysec'
  /** The binary. @defaultValue `REDIS_SERVER_BIN` or `redis-server` */
  binary?: string
  /** How long to wait for it to answer PING. @defaultValue 10_000 */
  startTimeoutMs?: number
  /** A replica of the server on this loopback port (`--replicaof 127.0.0.1 PORT`). */
  replicaOf?: number
  /** `requirepass` (and `masterauth`, so replicas of each other can sync). */
  password?: string
}

/** A redis-server of the test's own, on a loopback port. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:PORT` (with the password: `redis://:PASSWORD@127.0.0.1:PORT`) */
  readonly url: string
  /** The current process (a new one after {@link RedisServer.restart}). */
  readonly process: ManagedProcess
  /** kill -9 the server (no shutdown save); it stays down until {@link RedisServer.start}. */
  kill(): Promise<void>
  /** Starts it again on the same port and data directory (after {@link RedisServer.kill}). */
  start(): Promise<void>
  /** kill -9, then start on the same port. */
  restart(): Promise<void>
  /** Stops it for good and removes its data directory. */
  stop(): Promise<void>
}

/** Resolves true when something on `port` answers `PING` with `+PONG`. */
export function redisAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => {
      reply += data.toString('utf8')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
    socket.on('error', () => done(false))
  })
}

/**
 * Starts `redis-server` on a free loopback port with a temporary data directory, waits until it
 * answers PING, and returns handles to kill, restart and stop it. Stopping removes the directory.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort())
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server'
  const dir = await mkdtemp(join(tmpdir(), 'redis-test-'))
  const persistence = options.persistence ?? 'none'
  const startTimeoutMs = options.startTimeoutMs ?? 10_000
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    persistence === 'aof' ? 'yes' : 'no',
    '--appendfsync',
    options.fsync ?? 'everysec',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    // A replica's full sync starts at once (Redis waits 5 s by default for more replicas).
    '--repl-diskless-sync-delay',
    '0',
    ...(options.replicaOf === undefined
      ? []
      : ['--replicaof', '127.0.0.1', String(options.replicaOf)]),
    ...(options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password]),
  ]
  const password = options.password
  const answers = password
    ? () =>
        redisCommand(port, ['PING'], { password, timeoutMs: 500 }).then(
          (reply) => reply === 'PONG',
          () => false,
        )
    : () => redisAnswers(port)
  let current: ManagedProcess | null = null

  const start = async () => {
    const child = spawnProcess(binary, args, { name: `redis-server:${port}`, env: {} })
    current = child
    try {
      await waitUntil(
        async () => {
          if (!child.alive) throw new Error(`redis-server exited\n${child.tail()}`)
          return answers()
        },
        startTimeoutMs,
        `redis-server on port ${port}`,
      )
    } catch (error) {
      await child.kill()
      throw error
    }
  }
  await start()

  const kill = async () => {
    if (current) await current.kill()
  }
  return {
    port,
    url: password
      ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    get process() {
      if (!current) throw new Error('redis-server was not started')
      return current
    },
    kill,
    start,
    async restart() {
      await kill()
      await start()
    },
    async stop() {
      if (current) await current.stop(2_000)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
