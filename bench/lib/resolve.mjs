import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root (bench/..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const WEB_DIR = path.join(ROOT, 'apps', 'web')
const fromWeb = createRequire(path.join(WEB_DIR, 'package.json'))
const fromGateway = createRequire(path.join(ROOT, 'packages', 'discord-gateway', 'package.json'))

/**
 * Imports a dependency as apps/web resolves it (ws, socket.io, hdr-histogram-js, iron-session...).
 * The bench has no package.json of its own; `pnpm bench` runs it from apps/web.
 */
export async function importFromWeb(name) {
  return withNamed(await import(pathToFileURL(fromWeb.resolve(name)).href))
}

/** CommonJS packages imported by path expose their exports on `default` only: merge them in. */
function withNamed(mod) {
  const d = mod.default
  return d && (typeof d === 'object' || typeof d === 'function') ? { ...d, ...mod } : mod
}

/** Imports a dependency of packages/discord-gateway (@discordjs/ws, @discordjs/rest). */
export async function importFromGateway(name) {
  return withNamed(await import(pathToFileURL(fromGateway.resolve(name)).href))
}

/** The repo's Node 22 binary (node_modules/.bin/node is a shell shim; use the real binary). */
export function nodeBinary() {
  return process.execPath
}
