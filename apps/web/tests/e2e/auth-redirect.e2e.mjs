// The post-sign-in redirect over HTTP against the production server: a returnTo that normalises to
// a protocol-relative URL (`//evil.com`) must bring the user home, not to another site.
//   BASE_URL=http://127.0.0.1:3100 EMULATOR_URL=... node --test tests/e2e/auth-redirect.e2e.mjs
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { emulator } from './browser.mjs'
import { signInOverHttp } from './http-sign-in.mjs'

let userId
before(async () => {
  userId = (await emulator('/state')).users.find((u) => !u.bot).id
})

for (const returnTo of [
  '/..//evil.com',
  '/.//evil.com',
  '/%2e%2e//evil.com',
  '/rooms/../..//evil.com',
]) {
  test(`sign-in with returnTo=${returnTo} ends on this site`, async () => {
    const { location } = await signInOverHttp(userId, returnTo)
    assert.equal(location, '/')
  })
}

test('sign-in returns to a local path it was given', async () => {
  const { location } = await signInOverHttp(userId, '/signed-out?x=1')
  assert.equal(location, '/signed-out?x=1')
})
