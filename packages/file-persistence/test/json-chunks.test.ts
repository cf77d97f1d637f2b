import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { jsonArrayChunks, writeFileAtomically } from '../src/index'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'file-persistence-'))
  dirs.push(dir)
  return dir
}
async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const chunk of chunks) out.push(chunk)
  return out
}

describe('jsonArrayChunks', () => {
  it('yields pieces that join to the JSON of the items without brackets', async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ id: i, name: `n${i}` }))
    const pieces = await collect(jsonArrayChunks(items, 3))
    expect(pieces).toHaveLength(3)
    expect(`[${pieces.join('')}]`).toBe(JSON.stringify(items))
  })

  it('yields nothing for an empty array', async () => {
    expect(await collect(jsonArrayChunks([]))).toEqual([])
  })
})

describe('writeFileAtomically', () => {
  it('creates the directory and writes the joined pieces', async () => {
    const path = join(await tempDir(), 'nested', 'state.json')
    async function* text() {
      yield '['
      yield* jsonArrayChunks([1, 2, 3], 2)
      yield ']'
    }
    await writeFileAtomically(path, text())
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual([1, 2, 3])
  })

  it('leaves the previous file whole and no temporary file when a piece fails', async () => {
    const dir = await tempDir()
    const path = join(dir, 'state.json')
    async function* good() {
      yield '{"v":1}'
    }
    await writeFileAtomically(path, good())
    async function* failing() {
      yield '{"v":'
      throw new Error('serialisation failed')
    }
    await expect(writeFileAtomically(path, failing())).rejects.toThrow('serialisation failed')
    expect(await readFile(path, 'utf8')).toBe('{"v":1}')
    expect(await readdir(dir)).toEqual(['state.json'])
  })
})
