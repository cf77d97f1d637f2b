import { definePlugin } from 'nitro'
import { ConfigError } from '../../src/server/config.server'
import { getLogger } from '../../src/server/logger.server'
import { startRuntime, stopRuntime } from '../../src/server/runtime.server'

/**
 * Boots the runtime when the server starts, so the Discord gateway connects
 * without waiting for a first request, and stops it gracefully on shutdown
 * (SIGTERM/SIGINT): the gateway session stays resumable and stores are flushed.
 * A bad configuration stops the process with the ConfigError message and exit code 1.
 */
export default definePlugin((nitroApp) => {
  if (process.env.VITEST) return
  startRuntime().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(1)
    }
    console.error('runtime failed to start', error)
    process.exit(1)
  })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    try {
      getLogger().info({ signal }, 'shutting down')
      await stopRuntime()
    } finally {
      process.exit(0)
    }
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
  nitroApp.hooks.hook('close', () => stopRuntime())
})
