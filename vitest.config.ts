import { defineConfig } from 'vitest/config'

/**
 * Tests run in a shuffled order (files and the tests in each file), so a test that depends on
 * another's leftovers fails instead of passing by luck. `VITEST_SEED` replays one order;
 * scripts/test.sh prints the seed it used.
 */
const sequence = {
  shuffle: { files: true, tests: true },
  ...(process.env.VITEST_SEED ? { seed: Number(process.env.VITEST_SEED) } : {}),
}

/**
 * One Vitest run over every package. Each package contributes two projects:
 * `<name>:unit` (pure, no sockets, `*.test.ts`) and `<name>:integration`
 * (real sockets, Redis, child processes: `*.integration.test.ts`). The web app has a third,
 * `web:cluster` (`test/cluster/`): several web nodes of its production build as real processes,
 * so it needs `vite build` first (`pnpm test` builds before it runs Vitest).
 */
const packages = [
  { name: 'discord-integration', dir: 'packages/discord-integration' },
  { name: 'discord-gateway', dir: 'packages/discord-gateway' },
  { name: 'discord-emulator', dir: 'packages/discord-emulator' },
  { name: 'file-persistence', dir: 'packages/file-persistence' },
  { name: 'process-harness', dir: 'packages/process-harness' },
  { name: 'web', dir: 'apps/web' },
]

export default defineConfig({
  test: {
    projects: packages
      .flatMap(({ name, dir }) => [
        {
          test: {
            name: `${name}:unit`,
            root: dir,
            include: ['{src,test,server}/**/*.test.{ts,tsx}'],
            exclude: ['**/*.integration.test.{ts,tsx}', '**/node_modules/**'],
            environment: 'node',
            sequence,
          },
        },
        {
          test: {
            name: `${name}:integration`,
            root: dir,
            include: ['{src,test,server}/**/*.integration.test.{ts,tsx}'],
            exclude: ['test/cluster/**', '**/node_modules/**'],
            environment: 'node',
            testTimeout: 30_000,
            hookTimeout: 30_000,
            fileParallelism: false,
            sequence,
          },
        },
      ])
      .concat({
        test: {
          name: 'web:cluster',
          root: 'apps/web',
          include: ['test/cluster/**/*.integration.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          sequence,
        },
      }),
  },
})
