import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ManagedProcess, spawnProcess } from './managed-process'
import { freePort } from './ports'
import { RespError, type RespReply, redisCommand } from './redis-command'
import { type RedisServer, startRedisServer } from './redis-server'
import { waitUntil } from './wait'

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** The loopback port of the master to monitor. */
  masterPort: number
  /** The master group's name (`sentinel monitor <name> …`). @defaultValue 'tv-master' */
  masterName?: string
  /** The data nodes' password (`sentinel auth-pass`). */
  masterPassword?: string
  /** The Sentinel's own password (`requirepass`). */
  password?: string
  /** @defaultValue a free loopback port */
  port?: number
  /** `sentinel down-after-milliseconds`. @defaultValue 1_000 */
  downAfterMs?: number
  /** The binary (started with `--sentinel`). @defaultValue `REDIS_SERVER_BIN` or `redis-server` */
  binary?: string
  /** How long to wait for it to answer. @defaultValue 10_000 */
  startTimeoutMs?: number
}

/** A Sentinel of the test's own, on a loopback port, with its config file in a temp directory. */
export interface RedisSentinel {
  readonly port: number
  /** `127.0.0.1:PORT`, as REDIS_SENTINELS takes it. */
  readonly address: string
  readonly masterName: string
  readonly process: ManagedProcess
  /** A command to the Sentinel (authenticated when it has a password). */
  command(...args: string[]): Promise<RespReply>
  /** The port of the master it names now (`SENTINEL GET-MASTER-ADDR-BY-NAME`). */
  masterPort(): Promise<number>
  /**
   * `SENTINEL FAILOVER`: retried while the Sentinel knows no replica fit to promote yet; resolves
   * once the Sentinel names another master and that server says `role:master`.
   */
  failover(timeoutMs?: number): Promise<{ from: number; to: number }>
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>
}

/** A master, one replica of it and a Sentinel monitoring them, all on loopback ports. */
export interface RedisSentinelGroup {
  readonly master: RedisServer
  readonly replica: RedisServer
  readonly sentinel: RedisSentinel
  /** Every process of the group (stopped in reverse order, directories removed). */
  stop(): Promise<void>
}

/** The role line of INFO replication (`master` / `slave`), or null when the server does not answer. */
export async function redisRole(port: number, password?: string): Promise<string | null> {
  try {
    const info = await redisCommand(port, ['INFO', 'replication'], {
      ...(password ? { password } : {}),
      timeoutMs: 1_000,
    })
    return typeof info === 'string' ? (/^role:(\w+)/m.exec(info)?.[1] ?? null) : null
  } catch {
    return null
  }
}

/**
 * Starts `redis-server <conf> --sentinel` on a free loopback port, monitoring the master on
 * `masterPort` (quorum 1), and waits until it names that master. The config file is generated in
 * a temporary directory (Sentinel rewrites it), removed by `stop()`.
 */
export async function startRedisSentinel(options: RedisSentinelOptions): Promise<RedisSentinel> {
  const port = options.port ?? (await freePort())
  const name = options.masterName ?? 'tv-master'
  const binary = options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server'
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-test-'))
  const conf = join(dir, 'sentinel.conf')
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'daemonize no',
      'loglevel warning',
      `sentinel monitor ${name} 127.0.0.1 ${options.masterPort} 1`,
      `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`,
      ...(options.masterPassword ? [`sentinel auth-pass ${name} ${options.masterPassword}`] : []),
      ...(options.password ? [`requirepass ${options.password}`] : []),
      '',
    ].join('\n'),
  )
  const child = spawnProcess(binary, [conf, '--sentinel'], {
    name: `redis-sentinel:${port}`,
    env: {},
  })
  const auth = options.password ? { password: options.password } : {}
  const command = (...args: string[]) => redisCommand(port, args, auth)
  const masterPort = async () => {
    const reply = await command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)
    if (!Array.isArray(reply) || typeof reply[1] !== 'string') {
      throw new Error(`Sentinel names no master for ${name}: ${JSON.stringify(reply)}`)
    }
    return Number(reply[1])
  }
  try {
    await waitUntil(
      async () => {
        if (!child.alive) throw new Error(`redis-server --sentinel exited\n${child.tail()}`)
        return masterPort().then(
          (p) => p === options.masterPort,
          () => false,
        )
      },
      options.startTimeoutMs ?? 10_000,
      `Sentinel on port ${port}`,
    )
  } catch (error) {
    await child.kill()
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    masterName: name,
    process: child,
    command,
    masterPort,
    async failover(timeoutMs = 20_000) {
      const from = await masterPort()
      await waitUntil(
        async () => {
          const reply = await command('SENTINEL', 'FAILOVER', name)
          if (reply instanceof RespError) {
            // No replica fit to promote yet (just discovered, still syncing): ask again.
            if (/NOGOODSLAVE|INPROG/.test(reply.message)) return false
            throw new Error(`SENTINEL FAILOVER ${name}: ${reply.message}`)
          }
          return true
        },
        timeoutMs,
        `SENTINEL FAILOVER ${name} accepted`,
        200,
      )
      const to = await waitUntil(
        async () => {
          const now = await masterPort().catch(() => from)
          if (now === from) return null
          return (await redisRole(now, options.masterPassword)) === 'master' ? now : null
        },
        timeoutMs,
        `the Sentinel to promote a replica of ${name}`,
        100,
      )
      return { from, to }
    },
    async stop() {
      await child.stop(2_000)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Starts a master, a replica of it (waits until it is in sync) and a Sentinel monitoring them,
 * the data nodes with `password` and the Sentinel with `sentinelPassword` when given.
 */
export async function startRedisSentinelGroup(
  options: { masterName?: string; password?: string; sentinelPassword?: string } = {},
): Promise<RedisSentinelGroup> {
  const started: { stop(): Promise<void> }[] = []
  const stop = async () => {
    for (const part of started.reverse()) await part.stop()
  }
  try {
    const pw = options.password ? { password: options.password } : {}
    const master = await startRedisServer(pw)
    started.push(master)
    const replica = await startRedisServer({ ...pw, replicaOf: master.port })
    started.push(replica)
    await waitUntil(
      async () => {
        const info = await redisCommand(replica.port, ['INFO', 'replication'], pw).catch(() => '')
        return typeof info === 'string' && /master_link_status:up/.test(info)
      },
      10_000,
      'the replica in sync with the master',
      50,
    )
    const sentinel = await startRedisSentinel({
      masterPort: master.port,
      ...(options.masterName ? { masterName: options.masterName } : {}),
      ...(options.password ? { masterPassword: options.password } : {}),
      ...(options.sentinelPassword ? { password: options.sentinelPassword } : {}),
    })
    started.push(sentinel)
    return { master, replica, sentinel, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
