import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export default defineConfig({
  // The same constant build.mjs defines for the bundles (lib/version.ts).
  define: { __S3SCAN_VERSION__: JSON.stringify(version) },
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/helpers/setup.ts'],
    testTimeout: 30_000,
    pool: 'forks',
    // Measured by `npm test` (vitest run --coverage); .ci/run prints the figures per folder.
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: {
        'lib/rules/**/*.ts': { lines: 100 },
        'lib/engine/**/*.ts': { lines: 100 },
        'lib/policy/**/*.ts': { lines: 90 },
        'lib/collect/**/*.ts': { lines: 90 },
      },
    },
  },
});
