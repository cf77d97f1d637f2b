import { tanstackStart } from '@tanstack/react-start/plugin/vite'
import viteReact from '@vitejs/plugin-react'
import { nitro } from 'nitro/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  server: { port: Number(process.env.PORT ?? 3000), strictPort: true },
  resolve: { tsconfigPaths: true },
  plugins: [
    tanstackStart(),
    nitro({ serverDir: './server', features: { websocket: true } }),
    // must come after tanstackStart()
    viteReact(),
  ],
})
