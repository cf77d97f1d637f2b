import { readFile } from 'node:fs/promises'
import { writeFileAtomically } from './json-chunks'

/**
 * Reads and parses a JSON file; `null` when there is none (a store that never wrote is empty).
 * Any other failure (unreadable file, bad JSON, a `parse` that throws) is thrown as it is.
 */
export async function readJsonFile<T>(
  path: string,
  parse: (value: unknown) => T,
): Promise<T | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  return parse(JSON.parse(text))
}

/**
 * Keeps a file in step with a state held in memory, written atomically and without queuing a
 * write per change: `persist()` resolves once a write that started after the call is on disk.
 * While a write is under way, every `persist()` waits for the one write that follows it, which
 * takes the state as it is when it starts. `render` is called at that moment and must take a
 * consistent copy synchronously (records replaced on change, never mutated), since the pieces are
 * written one by one. A failed write rejects its callers; the next `persist()` tries again.
 *
 * Written by hand: no maintained library coalesces writes of an in-memory document this way.
 */
export class CoalescedFileWriter {
  readonly #path: string
  readonly #render: () => AsyncIterable<string>
  /** The write on its way to disk. */
  #current: Promise<void> | null = null
  /** The write that starts after it and includes every change made until then. */
  #next: Promise<void> | null = null
  #writes = 0

  constructor(path: string, render: () => AsyncIterable<string>) {
    this.#path = path
    this.#render = render
  }

  /** Resolves when a write containing the changes made so far is on disk. */
  persist(): Promise<void> {
    this.#next ??= (this.#current ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#write())
    return this.#next
  }

  /** Waits for the writes under way (failures included); for a store's `close()`. */
  async flush(): Promise<void> {
    await (this.#next ?? this.#current)?.catch(() => undefined)
  }

  /** How many writes started (tests). */
  get writes(): number {
    return this.#writes
  }

  async #write(): Promise<void> {
    // From here on, changes need a later write; this one takes the state as it is now.
    this.#next = null
    const write = writeFileAtomically(this.#path, this.#render())
    this.#writes++
    this.#current = write
    await write
  }
}
