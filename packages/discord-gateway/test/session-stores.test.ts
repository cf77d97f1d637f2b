import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileSessionStore } from '../src/session/file-session-store'
import type { PersistedGateway } from '../src/session/persisted-gateway'
import { persistVoiceState, restoreVoiceState } from '../src/session/persisted-gateway'
import { MemorySessionStore } from '../src/session/session-store'
import { createVoiceStoreState, reduce } from '../src/voice/voice-state-reducer'
import { GUILD, guildCreate, ready, voiceState } from './support/dispatch'

function sample(seq = 7): PersistedGateway {
  let state = createVoiceStoreState(GUILD)
  state = reduce(state, { payload: ready(1, 'sess'), receivedAt: 0 }).state
  state = reduce(state, {
    payload: guildCreate(seq, [voiceState('200000000000000001', '300000000000000001')]),
    receivedAt: 0,
  }).state
  return {
    v: 1,
    guildId: GUILD,
    savedAt: 1,
    session: {
      sessionId: 'sess',
      sequence: seq,
      resumeURL: 'ws://x/resume',
      shardId: 0,
      shardCount: 1,
    },
    voice: persistVoiceState(state),
  }
}

describe('session stores', () => {
  it('memory store round-trips and clears, handing out copies', async () => {
    const store = new MemorySessionStore()
    expect(await store.load()).toBeNull()
    const value = sample()
    await store.save(value)
    value.voice.seq = 999
    expect((await store.load())?.voice.seq).toBe(7)
    await store.clear()
    expect(await store.load()).toBeNull()
  })

  it('file store writes atomically, keeps the newest of concurrent saves, and tolerates garbage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-store-'))
    const path = join(dir, 'nested', 'session.json')
    const store = new FileSessionStore(path)
    expect(await store.load()).toBeNull()
    await Promise.all([store.save(sample(3)), store.save(sample(4)), store.save(sample(5))])
    expect((await store.load())?.voice.seq).toBe(5)
    expect((await readdir(join(dir, 'nested'))).filter((f) => f.endsWith('.tmp'))).toEqual([])
    const restored = restoreVoiceState(GUILD, (await store.load())!.voice)
    expect(restored.members.get('200000000000000001')?.channelId).toBe('300000000000000001')
    expect(restored.synced).toBe(true)
    await writeFile(path, '{not json')
    expect(await store.load()).toBeNull()
    await store.clear()
    await expect(readFile(path)).rejects.toThrow()
  })
})
