import { afterEach } from 'vitest'
import type { VoiceFeed } from '../../src/voice-feed'
import { type Emulator, startTestEmulator } from './harness'

/**
 * A test file's emulators and feeds, closed after each test (the last started first). Call once
 * at the top of a file: `const { emulator, track } = useFeedCleanups()`.
 */
export function useFeedCleanups() {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return {
    async emulator(options: Parameters<typeof startTestEmulator>[0] = {}): Promise<Emulator> {
      const emu = await startTestEmulator(options)
      cleanups.push(() => emu.close())
      return emu
    },
    track(feed: VoiceFeed): VoiceFeed {
      cleanups.push(() => feed.stop())
      return feed
    },
  }
}
