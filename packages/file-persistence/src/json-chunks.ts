import { randomUUID } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'

/** Array items serialised per piece by {@link jsonArrayChunks}. */
const ITEMS_PER_CHUNK = 250

/**
 * The JSON of an array's items (without the brackets), in pieces of `itemsPerChunk` items with a
 * turn of the event loop before each, so that serialising thousands of records never blocks the
 * process for more than a fraction of a millisecond at a time. Joined, the pieces equal
 * `JSON.stringify(items).slice(1, -1)`.
 *
 * The items must not change meanwhile: callers pass a copy of an array of records that are
 * replaced on change, never mutated.
 */
export async function* jsonArrayChunks(
  items: readonly unknown[],
  itemsPerChunk = ITEMS_PER_CHUNK,
): AsyncGenerator<string, void, undefined> {
  for (let start = 0; start < items.length; start += itemsPerChunk) {
    await nextTurn()
    const piece = JSON.stringify(items.slice(start, start + itemsPerChunk)).slice(1, -1)
    yield start === 0 ? piece : `,${piece}`
  }
}

/**
 * Writes text given in pieces to `path` atomically: into a temporary file next to it (creating the
 * directory if needed), then renamed over it, so a crash mid-write leaves the previous file whole.
 * The temporary file is removed when a piece fails.
 */
export async function writeFileAtomically(
  path: string,
  chunks: AsyncIterable<string>,
  mode = 0o600,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${randomUUID()}.tmp`
  const file = await open(tmp, 'w', mode)
  try {
    for await (const chunk of chunks) await file.write(chunk)
  } catch (error) {
    await file.close()
    await rm(tmp, { force: true })
    throw error
  }
  await file.close()
  await rename(tmp, path)
}
