import {
  type PersistedGateway,
  parsePersistedGateway,
  persistedJsonChunks,
} from './persisted-gateway'

/** Where the gateway session and voice state survive restarts. */
export interface GatewaySessionStore {
  load(): Promise<PersistedGateway | null>
  save(value: PersistedGateway): Promise<void>
  clear(): Promise<void>
}

/**
 * Keeps the value (as JSON text) in memory: survives reconnects and feed re-creation in one process,
 * not restarts. Each load returns a fresh copy.
 */
export class MemorySessionStore implements GatewaySessionStore {
  private text: string | null = null
  private writing: Promise<void> = Promise.resolve()

  async load(): Promise<PersistedGateway | null> {
    return this.text === null ? null : parsePersistedGateway(this.text)
  }

  save(value: PersistedGateway): Promise<void> {
    const next = this.writing.then(async () => {
      let text = ''
      for await (const chunk of persistedJsonChunks(value)) text += chunk
      this.text = text
    })
    this.writing = next.catch(() => undefined)
    return next
  }

  async clear(): Promise<void> {
    await this.writing
    this.text = null
  }
}
