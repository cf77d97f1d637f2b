import type { PersistedGateway } from './persisted-gateway'

/** Where the gateway session and voice state survive restarts. */
export interface GatewaySessionStore {
  load(): Promise<PersistedGateway | null>
  save(value: PersistedGateway): Promise<void>
  clear(): Promise<void>
}

/** Keeps the value in memory: survives reconnects and feed re-creation in one process, not restarts. */
export class MemorySessionStore implements GatewaySessionStore {
  private value: PersistedGateway | null = null

  async load(): Promise<PersistedGateway | null> {
    return this.value ? structuredClone(this.value) : null
  }

  async save(value: PersistedGateway): Promise<void> {
    this.value = structuredClone(value)
  }

  async clear(): Promise<void> {
    this.value = null
  }
}
