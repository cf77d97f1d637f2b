import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileLoginSessionStore } from '../../src/features/auth/file-login-session-store.server'
import { loginSession, loginSessionStoreContract } from './login-session-store-contract'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-sessions-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

loginSessionStoreContract('file', {
  async create() {
    const path = join(dir, `sessions-${Math.random().toString(36).slice(2)}.json`)
    let store = new FileLoginSessionStore(path)
    return {
      store,
      // One node, one instance: every writer of the process shares it.
      other: async () => store,
      async reopen() {
        await store.close()
        store = new FileLoginSessionStore(path)
        return store
      },
      watching: async () => undefined,
      dispose: () => store.close(),
    }
  },
})

describe('file login session store', () => {
  it('writes DATA_DIR/sessions.json readable by its owner only, and drops expired sessions from it', async () => {
    const path = join(dir, 'sessions.json')
    const store = new FileLoginSessionStore(path)
    const now = Date.now()
    const expiring = loginSession('100000000000000001', { expiresAt: now + 1000 }, now)
    const kept = loginSession('100000000000000001', {}, now)
    await store.create(expiring, { maxPerUser: 10, now })
    await store.create(kept, { maxPerUser: 10, now })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const ids = async () =>
      ((JSON.parse(await readFile(path, 'utf8')) as { sessions: { id: string }[] }).sessions ?? [])
        .map((s) => s.id)
        .sort()
    expect(await ids()).toEqual([expiring.id, kept.id].sort())
    expect(await store.sweep(now + 999)).toBe(0)
    expect(await store.sweep(now + 1000)).toBe(1)
    expect(await ids()).toEqual([kept.id])
    await store.close()
  })

  it('a corrupt file stops the store rather than signing everyone out silently', async () => {
    const path = join(dir, 'sessions.json')
    await import('node:fs/promises').then((fs) => fs.writeFile(path, '{"version":1,"sessions":[{'))
    await expect(new FileLoginSessionStore(path).get('x', Date.now())).rejects.toThrow()
  })
})
