import { describe, expect, it } from 'vitest'
import { parseWorkerEnv } from '../src/config'
import { GatewayError } from '../src/errors'

const BASE = {
  DISCORD_BOT_TOKEN: 'secret-token-value',
  DISCORD_GUILD_ID: '842106352435597312',
  REDIS_URL: 'redis://:hunter2@redis.internal:6379/0',
}
const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`)
}

function errorOf(run: () => unknown): GatewayError {
  try {
    run()
  } catch (error) {
    if (error instanceof GatewayError) return error
    throw error
  }
  throw new Error('expected a GatewayError')
}

describe('parseWorkerEnv', () => {
  it('parses the shards a worker runs', () => {
    expect(
      parseWorkerEnv({ ...BASE, DISCORD_SHARD_COUNT: '3', GATEWAY_SHARD_IDS: '2, 0,2' }, noFiles),
    ).toMatchObject({ shardCount: 3, shardIds: [0, 2] })
    expect(() => parseWorkerEnv({ ...BASE, GATEWAY_SHARD_IDS: 'one' }, noFiles)).toThrow(
      /GATEWAY_SHARD_IDS/,
    )
  })

  it('parses the worker environment with its defaults', () => {
    expect(parseWorkerEnv(BASE, noFiles)).toEqual({
      apiUrl: 'https://discord.com/api',
      token: 'secret-token-value',
      guildId: '842106352435597312',
      intents: { guildMembers: false },
      shardCount: undefined,
      shardIds: undefined,
      redisUrl: 'redis://:hunter2@redis.internal:6379/0',
      redisOptions: {},
      prefix: 'tv:',
      leaseMs: 15_000,
      streamMaxLen: 10_000,
      holderId: undefined,
      health: null,
      logLevel: 'info',
    })
    expect(
      parseWorkerEnv(
        {
          ...BASE,
          GATEWAY_LEASE_MS: '1500',
          WORKER_HEALTH_PORT: '0',
          REDIS_PREFIX: 'x:',
          LOG_LEVEL: '',
        },
        noFiles,
      ),
    ).toMatchObject({
      leaseMs: 1500,
      health: { port: 0, host: '127.0.0.1' },
      prefix: 'x:',
      logLevel: 'info',
    })
  })

  it('reads secrets from *_FILE (trailing newline dropped), and refuses both or an unreadable file', () => {
    const files: Record<string, string> = {
      '/run/secrets/token': 'from-file\n',
      '/run/secrets/redis': 'rediss://r:6380\n',
    }
    const read = (path: string) => {
      const text = files[path]
      if (text === undefined) throw new Error('ENOENT')
      return text
    }
    const { DISCORD_BOT_TOKEN: _t, REDIS_URL: _r, ...rest } = BASE
    expect(
      parseWorkerEnv(
        {
          ...rest,
          DISCORD_BOT_TOKEN_FILE: '/run/secrets/token',
          REDIS_URL_FILE: '/run/secrets/redis',
        },
        read,
      ),
    ).toMatchObject({ token: 'from-file', redisUrl: 'rediss://r:6380' })
    expect(
      errorOf(() => parseWorkerEnv({ ...BASE, DISCORD_BOT_TOKEN_FILE: '/run/secrets/token' }, read))
        .message,
    ).toBe('set DISCORD_BOT_TOKEN or DISCORD_BOT_TOKEN_FILE, not both')
    const unreadable = errorOf(() =>
      parseWorkerEnv({ ...rest, REDIS_URL: BASE.REDIS_URL, DISCORD_BOT_TOKEN_FILE: '/nope' }, read),
    )
    expect(unreadable.code).toBe('INVALID_CONFIG')
    expect(unreadable.message).toBe('DISCORD_BOT_TOKEN_FILE: cannot read /nope (unreadable)')
  })

  it('names the bad variables, never their values', () => {
    const error = errorOf(() =>
      parseWorkerEnv(
        { ...BASE, REDIS_URL: 'http://hunter2@x', GATEWAY_LEASE_MS: '10', DISCORD_GUILD_ID: 'abc' },
        noFiles,
      ),
    )
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toBe(
      'invalid gateway worker environment: DISCORD_GUILD_ID, REDIS_URL, GATEWAY_LEASE_MS',
    )
    expect(error.message).not.toContain('hunter2')
  })

  it('reads the Sentinel settings (the password also from a file) into redisOptions', () => {
    const env = parseWorkerEnv(
      {
        ...BASE,
        REDIS_SENTINELS: 's1:26379,s2:26380',
        REDIS_SENTINEL_NAME: 'tv-master',
        REDIS_SENTINEL_PASSWORD_FILE: '/run/secrets/sentinel',
      },
      (path) => (path === '/run/secrets/sentinel' ? 'from-file\n' : noFiles(path)),
    )
    expect(env.redisUrl).toBe(BASE.REDIS_URL)
    expect(env.redisOptions).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'tv-master',
      role: 'master',
      sentinelPassword: 'from-file',
    })
    const error = errorOf(() =>
      parseWorkerEnv(
        { ...BASE, REDIS_SENTINELS: 's1:hunter2', REDIS_SENTINEL_PASSWORD: 'x' },
        noFiles,
      ),
    )
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.message).toBe(
      'invalid gateway worker environment: REDIS_SENTINELS (entry 1 is not host:port (a host name or IP address, port 1-65535; IPv6 as [addr]:port))',
    )
    expect(error.message).not.toContain('hunter2')
  })
})
