import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileSessionStore } from '../src/session/file-session-store'
import type { PersistedGateway } from '../src/session/persisted-gateway'
import { persistedJsonChunks, restoreVoiceState } from '../src/session/persisted-gateway'
import { MemorySessionStore } from '../src/session/session-store'
import { GUILD } from './support/dispatch'
import { asV1, large, sample } from './support/persisted'

async function collect(value: PersistedGateway, itemsPerChunk?: number): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of persistedJsonChunks(value, itemsPerChunk)) chunks.push(chunk)
  return chunks
}

describe('persistedJsonChunks', () => {
  it('joins to exactly JSON.stringify of the value, empty or not', async () => {
    const empty = sample()
    empty.voice.members = []
    empty.voice.profiles = []
    for (const value of [empty, sample(), large(1), large(250), large(251), large(1_000)]) {
      expect((await collect(value)).join('')).toBe(JSON.stringify(value))
    }
  })

  it('serialises a large voice state in bounded pieces, letting other work run between them', async () => {
    const value = large(10_000)
    let turns = 0
    let running = true
    const spin = () => {
      turns++
      if (running) setImmediate(spin)
    }
    setImmediate(spin)
    const chunks = await collect(value, 250)
    running = false
    // 40 pieces of members and 40 of profiles, plus the framing.
    expect(chunks.length).toBe(83)
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(JSON.stringify(value).length / 20)
    expect(turns).toBeGreaterThanOrEqual(80)
  })
})

describe('session stores', () => {
  it('memory store round-trips and clears, handing out copies', async () => {
    const store = new MemorySessionStore()
    expect(await store.load()).toBeNull()
    const value = sample()
    await store.save(value)
    value.voice.seq = 999
    expect(asV1(await store.load())?.voice.seq).toBe(7)
    await store.clear()
    expect(await store.load()).toBeNull()
  })

  it('memory and file stores round-trip a 10,000-member voice state', async () => {
    const value = large(10_000)
    const dir = await mkdtemp(join(tmpdir(), 'gw-store-'))
    for (const store of [new MemorySessionStore(), new FileSessionStore(join(dir, 's.json'))]) {
      await store.save(value)
      expect(await store.load()).toEqual(value)
    }
  })

  it('file store writes atomically, keeps the newest of concurrent saves, and tolerates garbage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-store-'))
    const path = join(dir, 'nested', 'session.json')
    const store = new FileSessionStore(path)
    expect(await store.load()).toBeNull()
    await Promise.all([store.save(sample(3)), store.save(sample(4)), store.save(sample(5))])
    expect(asV1(await store.load())?.voice.seq).toBe(5)
    expect((await readdir(join(dir, 'nested'))).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const restored = restoreVoiceState(GUILD, asV1(await store.load())!.voice)
    expect(restored.members.get('200000000000000001')?.channelId).toBe('300000000000000001')
    expect(restored.synced).toBe(true)
    await writeFile(path, '{not json')
    expect(await store.load()).toBeNull()
    await store.clear()
    await expect(readFile(path)).rejects.toThrow()
  })
})
