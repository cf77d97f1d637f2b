// Server-function calls over plain HTTP against the production build, as the browser makes them.
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { toJSONAsync } from 'seroval'
import { BASE_URL } from './browser.mjs'

const ssrDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.output',
  'server',
  '_ssr',
)

/** Server function name -> id, from the build's server bundle (`createServerRpc({id, name})`). */
export async function serverFnIds() {
  const file = (await readdir(ssrDir)).find((name) => name.startsWith('rooms.functions-'))
  assert.ok(file, `no rooms.functions chunk in ${ssrDir}: build first`)
  const source = await readFile(join(ssrDir, file), 'utf8')
  return new Map(
    [...source.matchAll(/id: "([0-9a-f_]+)",\s*name: "(\w+)"/g)].map(([, id, name]) => [name, id]),
  )
}

/** POSTs a call of server function `id` with `data`, an optional Cookie header and more headers. */
export async function callServerFn(id, data, cookieHeader, headers = {}) {
  return fetch(`${BASE_URL}/_serverFn/${id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-tsr-serverfn': 'true',
      origin: BASE_URL,
      ...(cookieHeader ? { cookie: cookieHeader } : {}),
      ...headers,
    },
    body: JSON.stringify(await toJSONAsync({ data })),
  })
}
