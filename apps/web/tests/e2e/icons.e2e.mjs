// The favicon and app icons of the production build: every page used to log a 404 for
// /favicon.ico. Every icon the root route's head links to (and the manifest's icons) answers 200
// with an image type, and so does /favicon.ico itself, which browsers ask for unprompted.
//   BASE_URL=http://127.0.0.1:3100 node --test tests/e2e/icons.e2e.mjs
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BASE_URL } from './browser.mjs'

async function get(path) {
  const response = await fetch(new URL(path, BASE_URL))
  const body = Buffer.from(await response.arrayBuffer())
  return { status: response.status, type: response.headers.get('content-type') ?? '', body }
}

test('/favicon.ico answers 200 with an ICO of 16, 32 and 48 px', async () => {
  const { status, type, body } = await get('/favicon.ico')
  assert.equal(status, 200)
  assert.match(type, /image\/(x-icon|vnd\.microsoft\.icon)/)
  assert.equal(body.readUInt16LE(2), 1, 'ICO type: icon')
  const sizes = Array.from({ length: body.readUInt16LE(4) }, (_, i) => body[6 + 16 * i])
  assert.deepEqual(sizes, [16, 32, 48])
})

test('the icons the pages link to, and the manifest icons, all answer 200', async () => {
  const html = await (await fetch(BASE_URL)).text()
  const links = [...html.matchAll(/<link[^>]*rel="(icon|apple-touch-icon|manifest)"[^>]*>/g)].map(
    ([tag, rel]) => ({ rel, href: /href="([^"]+)"/.exec(tag)?.[1] }),
  )
  assert.deepEqual(links.map((l) => l.rel).sort(), ['apple-touch-icon', 'icon', 'icon', 'manifest'])
  for (const { rel, href } of links) {
    const { status, type, body } = await get(href)
    assert.equal(status, 200, href)
    if (rel === 'manifest') {
      const manifest = JSON.parse(body.toString())
      assert.equal(manifest.name, 'Table Voice')
      for (const icon of manifest.icons) {
        const got = await get(icon.src)
        assert.equal(got.status, 200, icon.src)
        assert.equal(got.type.split(';')[0], icon.type, icon.src)
      }
    } else {
      assert.match(type, /^image\//, href)
    }
  }
})
