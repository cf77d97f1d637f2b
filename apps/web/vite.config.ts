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
 * Nitro's Node server creates the CrossWS adapter with its default idle check, which
 * pings every socket in one synchronous loop every 30 s: at 10,000 sockets that stalls
 * the event loop for 100+ ms. The presence service already pings its sockets in
 * spread-out groups and drops silent ones, so the adapter's own check is turned off.
 * The build fails if Nitro's code changes shape, so an upgrade cannot drop this quietly.
 */
function crosswsWithoutIdleSweep(): Plugin {
  const call = 'wsAdapter({ resolve: resolveWebsocketHooks })'
  return {
    name: 'crossws-without-idle-sweep',
    transform(code, id) {
      if (!/nitro\/dist\/presets\/node\/runtime\/node-server\.mjs$/.test(id)) return null
      if (!code.includes(call)) {
        throw new Error(`${id}: expected \`${call}\`; update crosswsWithoutIdleSweep()`)
      }
      return code.replace(call, 'wsAdapter({ resolve: resolveWebsocketHooks, idleTimeout: 0 })')
    },
  }
}

export default defineConfig({
  server: { port: Number(process.env.PORT ?? 3000), strictPort: true },
  resolve: { tsconfigPaths: true },
  plugins: [
    optionalNativeDependencies(['zlib-sync']),
    crosswsWithoutIdleSweep(),
    tanstackStart(),
    nitro({ serverDir: './server', features: { websocket: true } }),
    // must come after tanstackStart()
    viteReact(),
  ],
})
