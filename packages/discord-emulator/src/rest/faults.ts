/** A scripted REST failure. */
export interface RestFault {
  method?: string
  /** A route pattern (`/guilds/:guildId/channels`) or a path prefix (`/guilds/123`). */
  path: string
  /** HTTP status to answer; 0 = only delay, then handle normally. */
  status: number
  /** How many matching requests it affects. @defaultValue 1 */
  count?: number
  /** Seconds, for 429s. @defaultValue 1 */
  retryAfter?: number
  /** Same as `scope: 'global'`. */
  global?: boolean
  /** X-RateLimit-Scope of an injected 429. @defaultValue 'user' ('global' when `global`) */
  scope?: 'user' | 'global' | 'shared'
  delayMs?: number
}

/** Strips `/api`, `/api/v10` etc. so faults can be given either way. */
export function stripApiPrefix(path: string): string {
  return path.replace(/^\/api(\/v\d+)?(?=\/)/, '')
}

/** Pending faults, consumed in the order they were added. */
export class FaultStore {
  #faults: (RestFault & { remaining: number })[] = []

  add(fault: RestFault): void {
    this.#faults.push({ ...fault, path: stripApiPrefix(fault.path), remaining: fault.count ?? 1 })
  }

  /** Takes the first fault matching this request, if any. */
  take(method: string, path: string, pattern: string | null): RestFault | null {
    const index = this.#faults.findIndex(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) &&
        (f.path === pattern ||
          path === f.path ||
          path.startsWith(f.path.endsWith('/') ? f.path : `${f.path}/`)),
    )
    const fault = this.#faults[index]
    if (!fault) return null
    fault.remaining--
    if (fault.remaining <= 0) this.#faults.splice(index, 1)
    return fault
  }

  pending(): number {
    return this.#faults.length
  }

  clear(): void {
    this.#faults = []
  }
}
