import { readFile, rm } from 'node:fs/promises'
import { writeFileAtomically } from '@repo/file-persistence'
import { GatewayError } from '../errors'
import type { PersistedGateway } from './persisted-gateway'
import { parsePersistedGateway, persistedJsonChunks } from './persisted-gateway'
import type { GatewaySessionStore } from './session-store'

/**
 * A JSON file for a single node. Writes are atomic (temp file + rename), so a crash mid-write leaves the
 * previous value. The JSON is written in pieces (see persistedJsonChunks), so a large voice state
 * never blocks the event loop while it is saved. A missing or unreadable file loads as null (the feed
 * then identifies).
 */
export class FileSessionStore implements GatewaySessionStore {
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly path: string) {}

  async load(): Promise<PersistedGateway | null> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw new GatewayError('SESSION_STORE', `cannot read ${this.path}`, { cause: error })
    }
    return parsePersistedGateway(text)
  }

  save(value: PersistedGateway): Promise<void> {
    // serialise writes so an older value can never rename over a newer one
    const next = this.writing.then(() => writeFileAtomically(this.path, persistedJsonChunks(value)))
    this.writing = next.catch(() => undefined)
    return next
  }

  async clear(): Promise<void> {
    await this.writing
    await rm(this.path, { force: true })
  }
}
