import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readSecretFiles } from '../src'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secret-files-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('readSecretFiles', () => {
  it('reads NAME from NAME_FILE, without the trailing line break', async () => {
    await writeFile(join(dir, 'token'), 'abc def\n')
    await writeFile(join(dir, 'crlf'), 'secret\r\n\r\n')
    const input = { TOKEN_FILE: join(dir, 'token'), OTHER_FILE: join(dir, 'crlf'), KEEP: 'x' }
    const { env, problems } = readSecretFiles(input, ['TOKEN', 'OTHER', 'ABSENT'])
    expect(problems).toEqual([])
    expect(env).toEqual({ TOKEN: 'abc def', OTHER: 'secret', KEEP: 'x' })
    expect(input.TOKEN_FILE).toBe(join(dir, 'token')) // the input is left alone
  })

  it('keeps a directly set value and ignores files of names it was not asked about', () => {
    const { env, problems } = readSecretFiles({ TOKEN: 't', UNRELATED_FILE: '/nope' }, ['TOKEN'])
    expect(problems).toEqual([])
    expect(env).toEqual({ TOKEN: 't', UNRELATED_FILE: '/nope' })
  })

  it('reports NAME and NAME_FILE set together', async () => {
    await writeFile(join(dir, 'token'), 'from-file')
    const { problems } = readSecretFiles({ TOKEN: 'direct', TOKEN_FILE: join(dir, 'token') }, [
      'TOKEN',
    ])
    expect(problems).toEqual([{ name: 'TOKEN', message: 'set TOKEN or TOKEN_FILE, not both' }])
  })

  it('treats empty strings as unset', async () => {
    await writeFile(join(dir, 'token'), 'from-file')
    expect(
      readSecretFiles({ TOKEN: '', TOKEN_FILE: join(dir, 'token') }, ['TOKEN']).env.TOKEN,
    ).toBe('from-file')
    expect(readSecretFiles({ TOKEN: 'direct', TOKEN_FILE: '' }, ['TOKEN']).env.TOKEN).toBe('direct')
  })

  it('reports a missing or unreadable file by name and path, never its content', async () => {
    const missing = join(dir, 'missing')
    const locked = join(dir, 'locked')
    await writeFile(locked, 'top-secret')
    await chmod(locked, 0o000)
    const { problems } = readSecretFiles({ A_FILE: missing, B_FILE: locked, C_FILE: dir }, [
      'A',
      'B',
      'C',
    ])
    const about = (name: string) => problems.find((p) => p.name === name)?.message
    expect(about('A')).toBe(`A_FILE: cannot read ${missing} (ENOENT)`)
    expect(about('C')).toBe(`C_FILE: cannot read ${dir} (EISDIR)`)
    // root reads any file: the permission case only holds for other users
    if (process.getuid?.() !== 0) expect(about('B')).toBe(`B_FILE: cannot read ${locked} (EACCES)`)
    expect(JSON.stringify(problems)).not.toContain('top-secret')
  })
})
