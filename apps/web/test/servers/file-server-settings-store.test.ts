import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileServerSettingsStore } from '../../src/features/servers/file-server-settings-store.server'
import {
  guildId,
  serverSettingsStoreContract,
  storedSettings,
} from './server-settings-store-contract'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tv-server-settings-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

serverSettingsStoreContract('file', {
  async create() {
    const path = join(dir, `server-settings-${Math.random().toString(36).slice(2)}.json`)
    let store = new FileServerSettingsStore(path)
    return {
      store,
      // One node, one instance: every writer of the process shares it.
      other: async () => store,
      async reopen() {
        await store.close()
        store = new FileServerSettingsStore(path)
        return store
      },
      dispose: () => store.close(),
    }
  },
})

describe('file server settings store', () => {
  it('writes DATA_DIR/server-settings.json, readable by its owner only', async () => {
    const path = join(dir, 'server-settings.json')
    const store = new FileServerSettingsStore(path)
    const settings = storedSettings(guildId())
    await store.save(settings)
    await store.close()
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, servers: [settings] })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('stops on a file that is not its own rather than losing it', async () => {
    const path = join(dir, 'server-settings.json')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(path, '{"version":2}')
    await expect(new FileServerSettingsStore(path).get(guildId())).rejects.toThrow()
  })
})
