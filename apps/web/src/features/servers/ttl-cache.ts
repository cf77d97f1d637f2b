/**
 * A small cache of loaded values for `ttlMs`, bounded to `maxEntries` (the oldest entry goes
 * first). Loads of one key at a time are shared; a failed load is not cached.
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; until: number }>()
  readonly #loading = new Map<K, Promise<V>>()

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    readonly now: () => number,
  ) {}

  /** The cached value of `key`, else `load()`'s (shared with a load already on its way). */
  async get(key: K, load: () => Promise<V>, options: { fresh?: boolean } = {}): Promise<V> {
    const entry = this.#entries.get(key)
    if (entry && !options.fresh && entry.until > this.now()) return entry.value
    const pending = options.fresh ? undefined : this.#loading.get(key)
    if (pending) return pending
    const loading = load().then((value) => {
      this.#set(key, value)
      return value
    })
    this.#loading.set(key, loading)
    const forget = () => {
      if (this.#loading.get(key) === loading) this.#loading.delete(key)
    }
    loading.then(forget, forget)
    return loading
  }

  /** Entries held now (expired ones included until they are pushed out). */
  get size(): number {
    return this.#entries.size
  }

  #set(key: K, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, { value, until: this.now() + this.ttlMs })
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done) break
      this.#entries.delete(oldest.value)
    }
  }
}
