import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Kept in scripts/ so the top level stays as the project asked; npm test points vitest here.

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['actions/**/*.test.ts', 'env/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'actions/*/dist/**'],
    // Integration tests measure real links: running them side by side would skew their numbers
    // and contend for the two cores, so files run one after another.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
