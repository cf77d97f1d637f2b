// Checks the production server's socket tuning (see nitroNodeServerTuning in vite.config.ts):
// a listen backlog big enough for a reconnect storm. Node's default of 511 made the kernel drop
// connections during a 10,000-socket storm, and their clients retried only after 15-31 s.
//   BASE_URL=http://127.0.0.1:3100 node --test tests/e2e/server-tuning.e2e.mjs
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'

const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:3100'

test('the server listens with a backlog of 4096 pending connections', () => {
  const { port } = new URL(baseUrl)
  // For a listening socket, `ss` reports the backlog in the Send-Q column.
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
  const backlogs = out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.trim().split(/\s+/)[2]))
  assert.ok(backlogs.length > 0, `nothing listens on port ${port}`)
  for (const backlog of backlogs) assert.equal(backlog, 4096)
})

// `pnpm start` runs the server with async context frames (AsyncLocalStorage without a hook on
// every promise) and, on a one-core host, with --single-threaded-gc, where V8's background GC
// threads would take the core from the event loop (scripts/lib/server-flags.mjs).
test('the start script picks async context frames, and single-threaded GC on one core only', () => {
  const root = new URL('../../../../', import.meta.url)
  const probe =
    "import('./scripts/lib/server-flags.mjs').then((m) => console.log(JSON.stringify(m.serverNodeFlags())))"
  const flagsOn = (taskset) =>
    JSON.parse(
      execFileSync(
        taskset ? 'taskset' : process.execPath,
        [...(taskset ? ['-c', taskset, process.execPath] : []), '--input-type=module', '-e', probe],
        { cwd: root, encoding: 'utf8' },
      ),
    )
  assert.deepEqual(flagsOn('0'), ['--experimental-async-context-frame', '--single-threaded-gc'])
  if (availableParallelism() > 1) {
    assert.deepEqual(flagsOn(null), ['--experimental-async-context-frame'])
  }
})

test('the running server was started with the flags of its host', () => {
  const { port } = new URL(baseUrl)
  const pids = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).match(
    /pid=(\d+)/g,
  )
  assert.ok(pids?.length, `no process found listening on port ${port}`)
  const pid = pids[0].slice(4)
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  assert.ok(argv.includes('--experimental-async-context-frame'), argv.join(' '))
  assert.ok(
    argv.some((arg) => arg.endsWith('server/index.mjs')),
    argv.join(' '),
  )
})
