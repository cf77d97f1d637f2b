import { tanstackStart } from '@tanstack/react-start/plugin/vite'
import viteReact from '@vitejs/plugin-react'
import { nitro } from 'nitro/vite'
import { defineConfig, type Plugin } from 'vite'

/**
 * @discordjs/ws loads the native `zlib-sync` package with a guarded dynamic import and
 * falls back when it is missing. The server bundler would otherwise fail to resolve it,
 * so it resolves to a module that throws on load, which is exactly "not installed".
 */
function optionalNativeDependencies(names: string[]): Plugin {
  const prefix = '\0optional-native:'
  return {
    name: 'optional-native-dependencies',
    enforce: 'pre',
    resolveId: (id) => (names.includes(id) ? `${prefix}${id}` : null),
    load: (id) =>
      id.startsWith(prefix)
        ? `throw new Error(${JSON.stringify(`${id.slice(prefix.length)} is not installed`)})`
        : null,
  }
}

/**
 * Two changes to Nitro's Node server entry, each of which fails the build if Nitro's code
 * changes shape, so an upgrade cannot drop them quietly:
 *
 * - Its CrossWS adapter runs a default idle check that pings every socket in one synchronous
 *   loop every 30 s: at 10,000 sockets that stalls the event loop for 100+ ms. The presence
 *   service already pings its sockets in spread-out groups and drops silent ones, so the
 *   adapter's own check is turned off.
 * - It listens with Node's default backlog of 511 pending connections. When thousands of
 *   browsers reconnect at once (a deploy, a network blip), connections past that are dropped
 *   by the kernel and their clients retry after 1, 3, 7, 15, 31 s; with 4096 (the usual
 *   `net.core.somaxconn` cap) the queue absorbs a 10,000-socket storm.
 */
function nitroNodeServerTuning(): Plugin {
  const edits = [
    [
      'wsAdapter({ resolve: resolveWebsocketHooks })',
      'wsAdapter({ resolve: resolveWebsocketHooks, idleTimeout: 0 })',
    ],
    ['fetch: nitroApp.fetch,', 'fetch: nitroApp.fetch,\n\tnode: { backlog: 4096 },'],
  ] as const
  return {
    name: 'nitro-node-server-tuning',
    transform(code, id) {
      if (!/nitro\/dist\/presets\/node\/runtime\/node-server\.mjs$/.test(id)) return null
      let out = code
      for (const [from, to] of edits) {
        if (!out.includes(from)) {
          throw new Error(`${id}: expected \`${from}\`; update nitroNodeServerTuning()`)
        }
        out = out.replace(from, to)
      }
      return out
    },
  }
}

export default defineConfig({
  server: { port: Number(process.env.PORT ?? 3000), strictPort: true },
  resolve: { tsconfigPaths: true },
  plugins: [
    optionalNativeDependencies(['zlib-sync']),
    nitroNodeServerTuning(),
    tanstackStart(),
    nitro({ serverDir: './server', features: { websocket: true } }),
    // must come after tanstackStart()
    viteReact(),
  ],
})
