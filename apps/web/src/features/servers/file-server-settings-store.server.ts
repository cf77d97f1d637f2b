import {
  type StoredServerSettings,
  StoredServerSettingsSchema,
} from '@repo/discord-integration/contracts'
import { CoalescedFileWriter, jsonArrayChunks, readJsonFile } from '@repo/file-persistence'
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
  readonly #file: CoalescedFileWriter
  #loaded: Promise<void> | null = null

  constructor(path: string) {
    this.#path = path
    const servers = this.#servers
    this.#file = new CoalescedFileWriter(path, async function* () {
      // Records are replaced on save, never mutated: this copy stays consistent while written.
      const all = [...servers.values()]
      yield '{"version":1,"servers":['
      yield* jsonArrayChunks(all)
      yield ']}'
    })
  }

  /** Loads the file (once). A missing file is an empty store. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const data = await readJsonFile(this.#path, (value) => FileSchema.parse(value))
      for (const s of data?.servers ?? []) this.#servers.set(s.guildId, s)
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
    await this.#file.persist()
  }

  async close(): Promise<void> {
    await this.#file.flush()
  }
}
