import { tanstackStart } from '@tanstack/react-start/plugin/vite'
import viteReact from '@vitejs/plugin-react'
import { nitro } from 'nitro/vite'
import { defineConfig, type Plugin } from 'vite'
// By path: Vite's config loader bundles relative imports but loads workspace packages with plain
// Node, which cannot run their TypeScript sources.
import { MAX_CLIENT_FRAME_BYTES } from '../../packages/discord-integration/src/contracts/limits.ts'

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
 * `ws` server options for Nitro's CrossWS adapter, in the production entry and in `vite dev`.
 *
 * `maxPayload`: `ws` reads a whole frame (up to its default limit of 100 MiB) before our handler
 * sees it, so the presence service's own 4096-byte check came after the memory was spent: six
 * users with five sockets each took a server to 2.85 GB. With the transport's limit set to the
 * protocol's, a larger frame is refused as soon as its header arrives (close 1009, the rest of
 * it is read and discarded) and never buffered.
 */
const WS_SERVER_OPTIONS = `serverOptions: { maxPayload: ${MAX_CLIENT_FRAME_BYTES} }`

/**
 * Changes to Nitro's Node server entries, each of which fails the build (or `vite dev`) if
 * Nitro's code changes shape, so an upgrade cannot drop them quietly:
 *
 * - Both entries (production `node-server.mjs`, dev `vite/dev-entry.mjs`) create the CrossWS
 *   adapter without `ws` server options: they get {@link WS_SERVER_OPTIONS}.
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
  const entries = [
    {
      file: /nitro\/dist\/presets\/node\/runtime\/node-server\.mjs$/,
      edits: [
        [
          'wsAdapter({ resolve: resolveWebsocketHooks })',
          `wsAdapter({ resolve: resolveWebsocketHooks, idleTimeout: 0, ${WS_SERVER_OPTIONS} })`,
        ],
        ['fetch: nitroApp.fetch,', 'fetch: nitroApp.fetch,\n\tnode: { backlog: 4096 },'],
      ],
    },
    {
      file: /nitro\/dist\/runtime\/internal\/vite\/dev-entry\.mjs$/,
      edits: [
        [
          'wsAdapter({ resolve: resolveWebsocketHooks })',
          `wsAdapter({ resolve: resolveWebsocketHooks, ${WS_SERVER_OPTIONS} })`,
        ],
      ],
    },
  ] as const
  return {
    name: 'nitro-node-server-tuning',
    transform(code, id) {
      const edits = entries.find((entry) => entry.file.test(id))?.edits
      if (!edits) return null
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
