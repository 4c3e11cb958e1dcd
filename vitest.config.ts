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
  },
});
