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

export default defineConfig({
  server: { port: Number(process.env.PORT ?? 3000), strictPort: true },
  resolve: { tsconfigPaths: true },
  plugins: [
    optionalNativeDependencies(['zlib-sync']),
    tanstackStart(),
    nitro({ serverDir: './server', features: { websocket: true } }),
    // must come after tanstackStart()
    viteReact(),
  ],
})
