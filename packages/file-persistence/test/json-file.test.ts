import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CoalescedFileWriter, readJsonFile } from '../src/index'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'json-file-'))
  dirs.push(dir)
  return dir
}

describe('readJsonFile', () => {
  it('is null when the file does not exist, and parses it when it does', async () => {
    const path = join(await tempDir(), 'state.json')
    expect(await readJsonFile(path, (v) => v)).toBeNull()
    await writeFile(path, '{"a":1}')
    expect(await readJsonFile(path, (v) => (v as { a: number }).a)).toBe(1)
  })

  it('throws on bad JSON and on a parse that refuses the value', async () => {
    const path = join(await tempDir(), 'state.json')
    await writeFile(path, '{not json')
    await expect(readJsonFile(path, (v) => v)).rejects.toThrow(SyntaxError)
    await writeFile(path, '[]')
    await expect(
      readJsonFile(path, () => {
        throw new Error('not a store file')
      }),
    ).rejects.toThrow('not a store file')
  })
})

describe('CoalescedFileWriter', () => {
  it('writes the state as it is when the write starts, coalescing changes made meanwhile', async () => {
    const path = join(await tempDir(), 'doc.json')
    let state = 0
    let started: () => void = () => {}
    let release: () => void = () => {}
    const firstStarted = new Promise<void>((r) => {
      started = r
    })
    const gate = new Promise<void>((r) => {
      release = r
    })
    const writer = new CoalescedFileWriter(path, async function* () {
      const value = state
      started()
      await gate
      yield JSON.stringify({ value })
    })
    state = 1
    const first = writer.persist()
    await firstStarted
    // Ten changes while the first write is under way: one more write, with the last of them.
    const later: Promise<void>[] = []
    for (let i = 2; i <= 11; i++) {
      state = i
      later.push(writer.persist())
    }
    expect(new Set(later).size).toBe(1)
    release()
    await first
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ value: 1 })
    await Promise.all(later)
    expect(writer.writes).toBe(2)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ value: 11 })
  })

  it('rejects the callers of a failed write and writes again on the next persist', async () => {
    const path = join(await tempDir(), 'doc.json')
    let fail = true
    const writer = new CoalescedFileWriter(path, async function* () {
      if (fail) throw new Error('disk full')
      yield '{"ok":true}'
    })
    await expect(writer.persist()).rejects.toThrow('disk full')
    fail = false
    await writer.persist()
    await writer.flush()
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ ok: true })
  })
})
