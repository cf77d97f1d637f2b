import { readFileSync } from 'node:fs'

type Env = Record<string, string | undefined>

/** What {@link readSecretFiles} found: the environment with the values read, and any problems. */
export interface SecretFilesResult {
  env: Env
  /** One line per variable that could not be resolved (names and paths, never a file's content). */
  problems: { name: string; message: string }[]
}

const set = (value: string | undefined): value is string => value !== undefined && value !== ''

/**
 * Reads secrets that container platforms mount as files (Docker and Kubernetes secrets): for each
 * of `names`, a `NAME_FILE` variable names a file whose content becomes `NAME`, without trailing
 * line breaks (files written by `echo` or an editor end with one). Setting both `NAME` and
 * `NAME_FILE` is a problem, as is a file that cannot be read; empty strings count as unset.
 * The input is not changed.
 */
export function readSecretFiles(
  env: Env,
  names: readonly string[],
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): SecretFilesResult {
  const out: Env = { ...env }
  const problems: SecretFilesResult['problems'] = []
  for (const name of names) {
    const path = env[`${name}_FILE`]
    if (!set(path)) continue
    if (set(env[name])) {
      problems.push({ name, message: `set ${name} or ${name}_FILE, not both` })
      continue
    }
    try {
      out[name] = readFile(path).replace(/[\r\n]+$/, '')
      delete out[`${name}_FILE`]
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
      problems.push({ name, message: `${name}_FILE: cannot read ${path} (${code})` })
    }
  }
  return { env: out, problems }
}
