// Runs the Dockerfile's steps outside Docker (no Docker daemon is available on the development
// machines or in CI) and starts the result:
//
// 1. Each stage gets a directory standing for its filesystem. `COPY . .` copies the repository's
//    files (git ls-files) less what .dockerignore excludes; `COPY --from=stage` copies from that
//    stage's directory; the build stage's RUN steps run as written in its WORKDIR.
// 2. The web stage's CMD starts in the gateway workers layout (GATEWAY_MODE=worker, REDIS_URL of a
//    redis-server this check starts on a free port) with its ENV (HOST, PORT and DATA_DIR pointed
//    at this machine and a temporary directory), against the bundled Discord emulator. Its
//    HEALTHCHECK command must fail (no worker has written the voice feed yet), then the worker
//    stage's CMD starts, and both images' HEALTHCHECKs must pass.
// 3. Each runtime stage must run as a non-root USER, and its only RUN may create its VOLUME
//    (mkdir + chown, which needs root: the directory is created, the owner is not changed).
// Needs `redis-server` on the PATH (pnpm test installs it when missing).
//
// What it cannot check: the base image, the USER's permissions, and Docker's own parsing.
//   node scripts/check-dockerfile.mjs        (exit code 0 when everything held)
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { root, startLocalDiscord } from './lib/local-discord.mjs'

const log = (...args) => console.log('[check-dockerfile]', ...args)
const fail = (message) => {
  throw new Error(message)
}

/** The Dockerfile as stages of { op, args } (one instruction per line, exec-form JSON kept as text). */
function parseDockerfile(text) {
  const stages = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? fail(`cannot read: ${line}`)
    const upper = op.toUpperCase()
    if (upper === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? fail(`FROM: ${args}`)
      stages.push({ name: name ?? String(stages.length), image, steps: [] })
      continue
    }
    const stage = stages.at(-1) ?? fail(`${upper} before FROM`)
    const known = [
      'WORKDIR',
      'ENV',
      'COPY',
      'RUN',
      'USER',
      'VOLUME',
      'EXPOSE',
      'HEALTHCHECK',
      'CMD',
    ]
    if (!known.includes(upper)) fail(`${upper} is not supported by this check: extend it`)
    stage.steps.push({ op: upper, args })
  }
  return stages
}

/** .dockerignore patterns as regular expressions over repository-relative paths. */
function ignoreMatchers(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((pattern) => {
      const body = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*/g, '[^/]*')
      return new RegExp(`^${body}(?:/.*)?$`)
    })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
const ignored = ignoreMatchers(readFileSync(join(root, '.dockerignore'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'tv-dockerfile-'))
const fsOf = new Map() // stage name -> its directory
const children = []
// Node 22 and the tools of this checkout first, as the node image has them on PATH.
const PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`

/** Builds one stage: returns what its runtime part needs (workdir, env, cmd, healthcheck...). */
function buildStage(stage) {
  const dir = join(work, stage.name)
  mkdirSync(dir, { recursive: true })
  fsOf.set(stage.name, dir)
  const inside = (path, cwd) => join(dir, path.startsWith('/') ? path : join(cwd, path))
  const result = { dir, workdir: '/', env: {}, user: 'root', volumes: [], cmd: null, health: null }
  for (const { op, args } of stage.steps) {
    if (op === 'WORKDIR') {
      result.workdir = args
      mkdirSync(inside(args, '/'), { recursive: true })
    } else if (op === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const [key, ...value] = pair.split('=')
        result.env[key] = value.join('=')
      }
    } else if (op === 'COPY') {
      const from = /^--from=(\S+)\s+/.exec(args)
      const [src, dest] = (from ? args.slice(from[0].length) : args).split(/\s+/)
      const target = inside(dest, result.workdir)
      if (!from) {
        if (src !== '.') fail(`COPY ${args}: only \`COPY . .\` from the context is supported`)
        const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
          .split('\0')
          .filter((f) => f && !ignored.some((re) => re.test(f)))
        for (const file of files) {
          mkdirSync(dirname(join(target, file)), { recursive: true })
          cpSync(join(root, file), join(target, file))
        }
        log(`${stage.name}: COPY . . (${files.length} files)`)
      } else {
        // Docker's rules: a directory's contents go into DEST; a file goes into DEST/ or to DEST.
        const source = join(fsOf.get(from[1]) ?? fail(`unknown stage ${from[1]}`), src)
        const into = statSync(source).isDirectory()
          ? target
          : dest.endsWith('/')
            ? join(target, basename(src))
            : target
        mkdirSync(statSync(source).isDirectory() ? into : dirname(into), { recursive: true })
        cpSync(source, into, { recursive: true })
      }
    } else if (op === 'RUN') {
      if (stage.name === stages[0].name) {
        log(`${stage.name}: RUN ${args}`)
        const run = spawnSync('sh', ['-c', args], {
          cwd: inside(result.workdir, '/'),
          env: { ...process.env, ...result.env, PATH, CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
        })
        if (run.status !== 0) fail(`RUN ${args} failed:\n${run.stdout}${run.stderr}`.slice(-4000))
      } else {
        const m = /^mkdir -p (\S+) && chown node:node \1$/.exec(args)
        if (!m) fail(`${stage.name}: RUN ${args}: only \`mkdir -p DIR && chown node:node DIR\``)
        mkdirSync(inside(m[1], '/'), { recursive: true })
      }
    } else if (op === 'USER') {
      result.user = args
    } else if (op === 'VOLUME') {
      result.volumes.push(args)
    } else if (op === 'CMD') {
      result.cmd = JSON.parse(args)
    } else if (op === 'HEALTHCHECK') {
      result.health = JSON.parse(/CMD\s+(\[.*\])$/.exec(args)?.[1] ?? fail(`HEALTHCHECK ${args}`))
    }
  }
  return result
}

function start(image, env) {
  const child = spawn(image.cmd[0], image.cmd.slice(1), {
    cwd: join(image.dir, image.workdir),
    env: { PATH, ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (d) => {
    output += d
  })
  child.stderr.on('data', (d) => {
    output += d
  })
  children.push(child)
  return { child, output: () => output.slice(-3000) }
}

/** Runs an image's HEALTHCHECK command as Docker would (same env); true on exit code 0. */
function healthy(image, env) {
  const [cmd, ...args] = image.health
  return (
    spawnSync(cmd, args, {
      cwd: join(image.dir, image.workdir),
      env: { PATH, ...image.env, ...env },
      timeout: 5000,
    }).status === 0
  )
}

let emulator
try {
  const images = {}
  for (const stage of stages) images[stage.name] = buildStage(stage)
  const { web, worker } = images
  if (!web?.cmd || !web.health) fail('the web stage needs CMD and HEALTHCHECK')
  if (!worker?.cmd || !worker.health) fail('the worker stage needs CMD and HEALTHCHECK')
  for (const image of [web, worker]) {
    if (['root', '0'].includes(image.user)) fail(`${image.dir}: runs as root`)
  }

  process.env.EMULATOR_PORT = String(await freePort())
  const local = await startLocalDiscord()
  emulator = local.emulator
  // The Redis the web nodes and the workers share (one of this check's own).
  const redisPort = await freePort()
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore', detached: true },
  )
  children.push(redis)
  const redisEnv = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PREFIX: 'check:' }
  const port = await freePort()
  const dataDir = (image) => join(image.dir, image.volumes[0] ?? fail('no VOLUME'))
  const webEnv = {
    ...local.env,
    ...redisEnv,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir(web),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    GATEWAY_MODE: 'worker',
    GATEWAY_LEASE_MS: '2000',
  }
  const server = start(web, webEnv)
  const deadline = Date.now() + 60_000
  while (
    !(await fetch(`http://127.0.0.1:${port}/api/health/live`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (server.child.exitCode !== null || Date.now() > deadline) {
      fail(`the web image did not start:\n${server.output()}`)
    }
    await sleep(250)
  }
  log(
    'web: CMD is serving; HEALTHCHECK before a worker runs:',
    healthy(web, webEnv) ? 'pass' : 'fail',
  )
  if (healthy(web, webEnv)) fail('the web image reports ready before a worker wrote the voice feed')

  const workerEnv = {
    DISCORD_API_URL: local.env.DISCORD_API_URL,
    DISCORD_BOT_TOKEN: local.env.DISCORD_BOT_TOKEN,
    DISCORD_GUILD_ID: local.env.DISCORD_GUILD_ID,
    ...redisEnv,
    GATEWAY_LEASE_MS: '2000',
    WORKER_HEALTH_HOST: '127.0.0.1',
    WORKER_HEALTH_PORT: String(await freePort()),
  }
  const gateway = start(worker, workerEnv)
  while (!healthy(web, webEnv) || !healthy(worker, workerEnv)) {
    if (gateway.child.exitCode !== null) fail(`the worker image stopped:\n${gateway.output()}`)
    if (server.child.exitCode !== null) fail(`the web image stopped:\n${server.output()}`)
    if (Date.now() > deadline) fail(`never ready:\n${server.output()}\n${gateway.output()}`)
    await sleep(250)
  }
  log('worker: CMD leads the gateway and writes the voice feed; both HEALTHCHECKs pass')
  log('ok: every Dockerfile step ran outside Docker and both images started')
} finally {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {}
  }
  await sleep(500)
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  await emulator?.close()
  rmSync(work, { recursive: true, force: true })
}
