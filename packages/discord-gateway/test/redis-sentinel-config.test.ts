import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  describeRedisTarget,
  REDIS_SENTINEL_ENV,
  redisConnectionOptions,
  refineRedisSentinelEnv,
} from '../src/redis-sentinel-config'

// The shape every process spreads into its environment schema.
const Schema = z
  .object({ REDIS_URL: z.string().optional(), ...REDIS_SENTINEL_ENV })
  .superRefine(refineRedisSentinelEnv)

function issues(env: Record<string, string>): string[] {
  const result = Schema.safeParse(env)
  if (result.success) return []
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

const URL = 'redis://:hunter2@mymaster/2'

describe('REDIS_SENTINEL_ENV', () => {
  it('parses host:port lists (spaces, IPv6 in brackets, the default port 26379)', () => {
    const parsed = Schema.parse({
      REDIS_URL: URL,
      REDIS_SENTINELS: ' s1.internal:26380 , 10.0.0.7,[::1]:5000',
      REDIS_SENTINEL_NAME: 'mymaster',
    })
    expect(parsed.REDIS_SENTINELS).toEqual([
      { host: 's1.internal', port: 26380 },
      { host: '10.0.0.7', port: 26379 },
      { host: '::1', port: 5000 },
    ])
  })

  it('names each bad entry by its position, never its text', () => {
    const found = issues({
      REDIS_URL: URL,
      REDIS_SENTINELS: 'ok:1,secret-ish:99999,,a b:2,host:x,[zz',
      REDIS_SENTINEL_NAME: 'mymaster',
    })
    expect(found).toEqual(
      [2, 3, 4, 5, 6].map(
        (n) =>
          `REDIS_SENTINELS: entry ${n} is not host:port (a host name or IP address, port 1-65535; IPv6 as [addr]:port)`,
      ),
    )
    expect(found.join('\n')).not.toContain('secret-ish')
    expect(
      issues({ REDIS_URL: URL, REDIS_SENTINELS: 'a:1,a:1', REDIS_SENTINEL_NAME: 'm' }),
    ).toEqual(['REDIS_SENTINELS: a Sentinel is listed twice'])
    expect(
      issues({
        REDIS_URL: URL,
        REDIS_SENTINELS: Array.from({ length: 17 }, (_, i) => `s${i}:1`).join(','),
        REDIS_SENTINEL_NAME: 'm',
      }),
    ).toEqual(['REDIS_SENTINELS: at most 16 Sentinels'])
  })

  it('needs the master name and REDIS_URL with REDIS_SENTINELS, and Sentinels for the name and password', () => {
    expect(issues({ REDIS_URL: URL, REDIS_SENTINELS: 'a:1' })).toEqual([
      'REDIS_SENTINEL_NAME: not set: REDIS_SENTINELS needs the master name the Sentinels monitor',
    ])
    expect(issues({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      'REDIS_SENTINELS: needs REDIS_URL too (its user, password, database and rediss:// apply to the master; the Sentinels give its address)',
    ])
    expect(
      issues({ REDIS_URL: URL, REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_PASSWORD: 'pw' }),
    ).toEqual([
      'REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS (set it, or unset this)',
      'REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS (set it, or unset this)',
    ])
    expect(
      issues({ REDIS_URL: URL, REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'my master' }),
    ).toEqual([
      'REDIS_SENTINEL_NAME: letters, digits and . _ - only (the name in sentinel monitor)',
    ])
  })
})

describe('redisConnectionOptions', () => {
  it('adds nothing with REDIS_URL alone', () => {
    expect(redisConnectionOptions(Schema.parse({ REDIS_URL: URL }))).toEqual({})
    expect(describeRedisTarget(Schema.parse({ REDIS_URL: URL }))).toBe('redis://mymaster/2')
  })

  it('builds the ioredis Sentinel options: master role, failover detection, READONLY reconnects', () => {
    const env = Schema.parse({
      REDIS_URL: URL,
      REDIS_SENTINELS: 'a:1,[::1]:2',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    })
    const options = redisConnectionOptions(env)
    expect(options).toMatchObject({
      sentinels: [
        { host: 'a', port: 1 },
        { host: '::1', port: 2 },
      ],
      name: 'mymaster',
      role: 'master',
      sentinelPassword: 'sentinel-secret',
      failoverDetector: true,
      enableTLSForSentinelMode: false,
    })
    const onError = options.reconnectOnError
    expect(onError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2)
    expect(onError?.(new Error('ERR wrong number of arguments'))).toBe(false)
    expect(describeRedisTarget(env)).toBe('master "mymaster" of the Sentinels a:1,[::1]:2')
    expect(describeRedisTarget(env)).not.toContain('secret')

    const tls = redisConnectionOptions(
      Schema.parse({ REDIS_URL: 'rediss://m', REDIS_SENTINELS: 'a', REDIS_SENTINEL_NAME: 'm' }),
    )
    expect(tls).toMatchObject({
      enableTLSForSentinelMode: true,
      sentinels: [{ host: 'a', port: 26379 }],
    })
    expect(tls).not.toHaveProperty('sentinelPassword')
  })
})
