import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisConnectionOptions } from '@repo/discord-gateway/redis-sentinel-config'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig, SECRET_FILE_VARIABLES } from '../../src/server/config.server'

const valid = {
  DISCORD_BOT_TOKEN: 'MTEwMDAwMDAwMDAwMDAwMDAwMQ.emulator.token-value',
  DISCORD_CLIENT_ID: '1100000000000000002',
  DISCORD_CLIENT_SECRET: 'emulator-client-secret',
  DISCORD_GUILD_ID: '1100000000000000001',
  SESSION_SECRET: 'x'.repeat(32),
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(valid)
    expect(config.DISCORD_API_URL).toBe('https://discord.com/api')
    expect(config.DISCORD_WEB_URL).toBe('https://discord.com')
    expect(config.PORT).toBe(3000)
    expect(config.PUBLIC_URL).toBe('http://127.0.0.1:3000')
    expect(config.GATEWAY_MODE).toBe('in-process')
    expect(config.ROOMS_COMMUNITY).toBe(false)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('takes the gateway shard settings (unset: the recommended count, every shard)', () => {
    const unset = parseConfig(valid)
    expect([unset.DISCORD_SHARD_COUNT, unset.GATEWAY_SHARD_IDS]).toEqual([undefined, undefined])
    expect(
      parseConfig({ ...valid, DISCORD_SHARD_COUNT: '4', GATEWAY_SHARD_IDS: '2, 0' }),
    ).toMatchObject({ DISCORD_SHARD_COUNT: 4, GATEWAY_SHARD_IDS: [2, 0] })
    const empty = parseConfig({ ...valid, DISCORD_SHARD_COUNT: '', GATEWAY_SHARD_IDS: '' })
    expect([empty.DISCORD_SHARD_COUNT, empty.GATEWAY_SHARD_IDS]).toEqual([undefined, undefined])
    expect(() => parseConfig({ ...valid, DISCORD_SHARD_COUNT: '0' })).toThrow(/DISCORD_SHARD_COUNT/)
    expect(() => parseConfig({ ...valid, GATEWAY_SHARD_IDS: 'all' })).toThrow(/GATEWAY_SHARD_IDS/)
  })

  it('reads ROOMS_COMMUNITY as a switch', () => {
    expect(parseConfig({ ...valid, ROOMS_COMMUNITY: '1' }).ROOMS_COMMUNITY).toBe(true)
    expect(parseConfig({ ...valid, ROOMS_COMMUNITY: 'no' }).ROOMS_COMMUNITY).toBe(false)
    expect(() => parseConfig({ ...valid, ROOMS_COMMUNITY: 'maybe' })).toThrow(/ROOMS_COMMUNITY/)
  })

  it('treats empty strings as unset and strips a trailing slash from PUBLIC_URL', () => {
    const config = parseConfig({ ...valid, REDIS_URL: '', PUBLIC_URL: 'https://rooms.example/' })
    expect(config.REDIS_URL).toBeUndefined()
    expect(config.PUBLIC_URL).toBe('https://rooms.example')
  })

  it('names every problem at once', () => {
    try {
      parseConfig({ PORT: 'eighty', DISCORD_GUILD_ID: 'abc' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      const problems = (error as ConfigError).problems.join('\n')
      for (const name of [
        'PORT',
        'DISCORD_BOT_TOKEN',
        'DISCORD_CLIENT_ID',
        'DISCORD_CLIENT_SECRET',
        'DISCORD_GUILD_ID',
        'SESSION_SECRET',
      ]) {
        expect(problems).toContain(name)
      }
    }
  })

  it('says "not set" for a missing required variable', () => {
    const { DISCORD_GUILD_ID: _guild, ...withoutGuild } = valid
    expect(() => parseConfig(withoutGuild)).toThrow('DISCORD_GUILD_ID: not set')
  })

  it('reads DISCORD_GUILD_MEMBERS_INTENT as a yes/no (off by default)', () => {
    expect(parseConfig(valid).DISCORD_GUILD_MEMBERS_INTENT).toBe(false)
    for (const yes of ['1', 'true', 'yes']) {
      expect(
        parseConfig({ ...valid, DISCORD_GUILD_MEMBERS_INTENT: yes }).DISCORD_GUILD_MEMBERS_INTENT,
      ).toBe(true)
    }
    expect(
      parseConfig({ ...valid, DISCORD_GUILD_MEMBERS_INTENT: '0' }).DISCORD_GUILD_MEMBERS_INTENT,
    ).toBe(false)
    expect(() => parseConfig({ ...valid, DISCORD_GUILD_MEMBERS_INTENT: 'maybe' })).toThrow(
      /DISCORD_GUILD_MEMBERS_INTENT/,
    )
  })

  it('refuses the removed hub and says what replaced it', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig({ ...valid, ...env })
      } catch (error) {
        if (error instanceof ConfigError) return error.problems
        throw error
      }
      return []
    }
    const removed: Record<string, string>[] = [
      { GATEWAY_MODE: 'hub' },
      { HUB_SECRET: 'h'.repeat(40) },
      { HUB_URL: 'http://web-1:3000/api/internal/voice-events' },
      { HUB_SECRET_FILE: '/run/secrets/hub_secret' },
    ]
    for (const env of removed) {
      const [problem, ...rest] = problems(env)
      expect(rest).toEqual([])
      expect(problem).toMatch(new RegExp(`^${Object.keys(env)[0]}: the HTTP hub .* was removed`))
      expect(problem).toMatch(/REDIS_URL/)
      expect(problem).toMatch(/GATEWAY_MODE=in-process/)
      expect(problem).toMatch(/discord-gateway-worker .* GATEWAY_MODE=worker/)
    }
    expect(problems({ GATEWAY_MODE: 'elsewhere' })).toEqual([
      'GATEWAY_MODE: must be in-process (the gateway runs in the web nodes) or worker (in discord-gateway-worker processes)',
    ])
  })

  it('takes GATEWAY_MODE=worker only with REDIS_URL, and the gateway cluster settings', () => {
    expect(() => parseConfig({ ...valid, GATEWAY_MODE: 'worker' })).toThrow(
      /GATEWAY_MODE: worker needs REDIS_URL/,
    )
    const config = parseConfig({
      ...valid,
      GATEWAY_MODE: 'worker',
      REDIS_URL: 'redis://redis:6379',
      GATEWAY_LEASE_MS: '5000',
      GATEWAY_STREAM_MAXLEN: '50000',
      GATEWAY_HOLDER_ID: 'web-1',
    })
    expect(config).toMatchObject({
      GATEWAY_MODE: 'worker',
      GATEWAY_LEASE_MS: 5000,
      GATEWAY_STREAM_MAXLEN: 50000,
      GATEWAY_MAX_LAG_MS: 5000,
      GATEWAY_HOLDER_ID: 'web-1',
      DISCORD_GUILD_MEMBERS_INTENT: false,
    })
    expect(parseConfig(valid)).toMatchObject({
      GATEWAY_LEASE_MS: 15_000,
      GATEWAY_STREAM_MAXLEN: 10_000,
    })
    expect(() => parseConfig({ ...valid, GATEWAY_LEASE_MS: '100' })).toThrow(/GATEWAY_LEASE_MS/)
    expect(() => parseConfig({ ...valid, GATEWAY_HOLDER_ID: 'a b' })).toThrow(/GATEWAY_HOLDER_ID/)
  })

  it('takes Redis behind Sentinel: the Sentinels, the master name, their password', () => {
    const config = parseConfig({
      ...valid,
      REDIS_URL: 'redis://:master-secret@tv-master/1',
      REDIS_SENTINELS: 'sentinel-1:26379, sentinel-2:26380,10.0.0.3',
      REDIS_SENTINEL_NAME: 'tv-master',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
    })
    expect(config.REDIS_SENTINELS).toEqual([
      { host: 'sentinel-1', port: 26379 },
      { host: 'sentinel-2', port: 26380 },
      { host: '10.0.0.3', port: 26379 },
    ])
    expect(config.REDIS_SENTINEL_NAME).toBe('tv-master')
    expect(redisConnectionOptions(config)).toMatchObject({
      sentinels: config.REDIS_SENTINELS,
      name: 'tv-master',
      role: 'master',
      sentinelPassword: 'sentinel-secret',
    })
    // REDIS_URL alone: nothing added, as before.
    expect(redisConnectionOptions(parseConfig({ ...valid, REDIS_URL: 'redis://r:6379' }))).toEqual(
      {},
    )
    // Empty values are unset, like every other variable.
    expect(
      parseConfig({ ...valid, REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '' }).REDIS_SENTINELS,
    ).toBeUndefined()
  })

  it('takes METRICS_TOKEN when it is long enough', () => {
    expect(parseConfig(valid).METRICS_TOKEN).toBeUndefined()
    expect(parseConfig({ ...valid, METRICS_TOKEN: 'm'.repeat(32) }).METRICS_TOKEN).toBe(
      'm'.repeat(32),
    )
    expect(() => parseConfig({ ...valid, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/)
  })
})

describe('parseConfig with secrets in files', () => {
  const problemsOf = (fn: () => unknown): string[] => {
    try {
      fn()
    } catch (error) {
      if (error instanceof ConfigError) return error.problems
      throw error
    }
    return []
  }

  it('reads every secret from NAME_FILE, without the trailing newline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tv-secrets-'))
    try {
      const values: Record<string, string> = {
        SESSION_SECRET: 's'.repeat(40),
        DISCORD_BOT_TOKEN: valid.DISCORD_BOT_TOKEN,
        DISCORD_CLIENT_SECRET: valid.DISCORD_CLIENT_SECRET,
        METRICS_TOKEN: 'm'.repeat(40),
        REDIS_URL: 'redis://:p%40ss@redis:6379/0',
        REDIS_SENTINEL_PASSWORD: 'sentinel-password',
      }
      const env: Record<string, string> = {
        DISCORD_CLIENT_ID: valid.DISCORD_CLIENT_ID,
        DISCORD_GUILD_ID: valid.DISCORD_GUILD_ID,
        GATEWAY_MODE: 'worker',
        REDIS_SENTINELS: 'sentinel-1:26379',
        REDIS_SENTINEL_NAME: 'tv-master',
      }
      for (const name of SECRET_FILE_VARIABLES) {
        const file = join(dir, name.toLowerCase())
        await writeFile(file, `${values[name]}\n`)
        env[`${name}_FILE`] = file
      }
      const config = parseConfig(env)
      for (const name of SECRET_FILE_VARIABLES) expect(config[name]).toBe(values[name])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a secret set both directly and as a file', () => {
    const problems = problemsOf(() =>
      parseConfig({ ...valid, SESSION_SECRET_FILE: '/run/secrets/session' }, () => 'x'.repeat(40)),
    )
    expect(problems).toEqual(['set SESSION_SECRET or SESSION_SECRET_FILE, not both'])
  })

  it('names an unreadable file once, with every other problem, never with its content', () => {
    const { SESSION_SECRET: _, ...rest } = valid
    const problems = problemsOf(() =>
      parseConfig({ ...rest, SESSION_SECRET_FILE: '/nonexistent/session', PORT: 'eighty' }),
    )
    expect(problems).toEqual([
      'SESSION_SECRET_FILE: cannot read /nonexistent/session (ENOENT)',
      expect.stringMatching(/^PORT: /),
    ])
  })

  it('still validates what a file holds', () => {
    const { SESSION_SECRET: _, ...rest } = valid
    const problems = problemsOf(() =>
      parseConfig({ ...rest, SESSION_SECRET_FILE: '/run/secrets/session' }, () => 'short\n'),
    )
    expect(problems).toEqual(['SESSION_SECRET: SESSION_SECRET must be at least 32 characters'])
  })

  it('names each Sentinel problem, never a value', () => {
    const problems = problemsOf(() =>
      parseConfig({
        ...valid,
        REDIS_SENTINELS: 'sentinel-1:26379,hunter2:0',
        REDIS_SENTINEL_PASSWORD: 'hunter2-password',
      }),
    )
    expect(problems).toEqual([
      'REDIS_SENTINELS: entry 2 is not host:port (a host name or IP address, port 1-65535; IPv6 as [addr]:port)',
    ])
    expect(
      problemsOf(() =>
        parseConfig({ ...valid, REDIS_SENTINELS: 'sentinel-1:26379', GATEWAY_MODE: 'worker' }),
      ),
    ).toEqual([
      'REDIS_SENTINEL_NAME: not set: REDIS_SENTINELS needs the master name the Sentinels monitor',
      'REDIS_SENTINELS: needs REDIS_URL too (its user, password, database and rediss:// apply to the master; the Sentinels give its address)',
      'GATEWAY_MODE: worker needs REDIS_URL (the web nodes read the voice stream the discord-gateway-worker processes write there)',
    ])
    expect(
      problemsOf(() => parseConfig({ ...valid, REDIS_URL: 'redis://r', REDIS_SENTINEL_NAME: 'm' })),
    ).toEqual(['REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS (set it, or unset this)'])
  })

  describe('the pool of servers', () => {
    it('DISCORD_GUILD_ID alone is a pool of one, community servers off', () => {
      const config = parseConfig(valid)
      expect(config.DISCORD_GUILD_ID).toBe(valid.DISCORD_GUILD_ID)
      expect(config.DISCORD_GUILD_IDS).toEqual([valid.DISCORD_GUILD_ID])
      expect(config.ROOMS_COMMUNITY).toBe(false)
    })

    it('merges DISCORD_GUILD_ID and DISCORD_GUILD_IDS, DISCORD_GUILD_ID first, without repeats', () => {
      const config = parseConfig({
        ...valid,
        DISCORD_GUILD_IDS: ` 1100000000000000011, ${valid.DISCORD_GUILD_ID},1100000000000000012,`,
      })
      expect(config.DISCORD_GUILD_IDS).toEqual([
        valid.DISCORD_GUILD_ID,
        '1100000000000000011',
        '1100000000000000012',
      ])
    })

    it('takes DISCORD_GUILD_IDS alone: its first server is the home server', () => {
      const { DISCORD_GUILD_ID: _guild, ...withoutGuild } = valid
      const config = parseConfig({
        ...withoutGuild,
        DISCORD_GUILD_IDS: '1100000000000000011,1100000000000000012',
        ROOMS_COMMUNITY: 'yes',
      })
      expect(config.DISCORD_GUILD_ID).toBe('1100000000000000011')
      expect(config.DISCORD_GUILD_IDS).toEqual(['1100000000000000011', '1100000000000000012'])
      expect(config.ROOMS_COMMUNITY).toBe(true)
    })

    it('names a bad pool entry, and neither variable set', () => {
      expect(() => parseConfig({ ...valid, DISCORD_GUILD_IDS: '1100000000000000011,abc' })).toThrow(
        'DISCORD_GUILD_IDS: DISCORD_GUILD_IDS must be a comma-separated list of snowflakes',
      )
      const { DISCORD_GUILD_ID: _guild, ...withoutGuild } = valid
      expect(() => parseConfig({ ...withoutGuild, DISCORD_GUILD_IDS: ' , ' })).toThrow(
        /DISCORD_GUILD_ID: not set \(set DISCORD_GUILD_ID to your server, or DISCORD_GUILD_IDS/,
      )
    })
  })
})
