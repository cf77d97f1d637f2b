import { readFile } from 'node:fs/promises'
import {
  type StoredServerSettings,
  StoredServerSettingsSchema,
} from '@repo/discord-integration/contracts'
import { jsonArrayChunks, writeFileAtomically } from '@repo/file-persistence'
import { z } from 'zod'
import type { ServerSettingsStore } from './server-settings-store'

const FileSchema = z.object({
  version: z.literal(1),
  servers: z.array(StoredServerSettingsSchema),
})

/**
 * The single-node settings store: every server's settings in memory, persisted to one JSON file
 * (DATA_DIR/server-settings.json, mode 0600) with an atomic write after each save. Writes are
 * coalesced: at most one on its way and one waiting, which serialises the state when it starts.
 */
export class FileServerSettingsStore implements ServerSettingsStore {
  readonly #path: string
  readonly #servers = new Map<string, StoredServerSettings>()
  #loaded: Promise<void> | null = null
  #current: Promise<void> | null = null
  #next: Promise<void> | null = null

  constructor(path: string) {
    this.#path = path
  }

  /** Loads the file (once). A missing file is an empty store. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      let text: string
      try {
        text = await readFile(this.#path, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
        throw error
      }
      for (const s of FileSchema.parse(JSON.parse(text)).servers) this.#servers.set(s.guildId, s)
    })()
    return this.#loaded
  }

  async get(guildId: string): Promise<StoredServerSettings | null> {
    await this.load()
    return this.#servers.get(guildId) ?? null
  }

  async getMany(guildIds: readonly string[]): Promise<Map<string, StoredServerSettings>> {
    await this.load()
    const found = new Map<string, StoredServerSettings>()
    for (const id of guildIds) {
      const settings = this.#servers.get(id)
      if (settings) found.set(id, settings)
    }
    return found
  }

  async save(settings: StoredServerSettings): Promise<void> {
    await this.load()
    this.#servers.set(settings.guildId, StoredServerSettingsSchema.parse(settings))
    await this.#persist()
  }

  async close(): Promise<void> {
    await (this.#next ?? this.#current)?.catch(() => undefined)
  }

  /** Resolves when a write containing the changes made so far is on disk. */
  #persist(): Promise<void> {
    this.#next ??= (this.#current ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#write())
    return this.#next
  }

  async #write(): Promise<void> {
    // Later saves need a later write; this one takes the state as it is now (records are
    // replaced on save, never mutated).
    this.#next = null
    const servers = [...this.#servers.values()]
    async function* text() {
      yield '{"version":1,"servers":['
      yield* jsonArrayChunks(servers)
      yield ']}'
    }
    const write = writeFileAtomically(this.#path, text())
    this.#current = write
    await write
  }
}
