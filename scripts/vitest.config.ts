import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

// Kept in scripts/ so the top level stays as the project asked. This config runs any test file
// named on the command line, one file at a time; the two tiers build on the same settings:
//   scripts/vitest.unit.config.ts    *.unit.test.ts, pure, in parallel (npm run test:unit)
//   scripts/vitest.system.config.ts  *.system.test.ts, real processes, one after another
// `npm test` runs the unit tier, then the system tier.

const under = (suffix: string) => ['actions', 'env', 'scripts'].map((dir) => `${dir}/**/*${suffix}`);
export const TIER_FILES = { unit: under('.unit.test.ts'), system: under('.system.test.ts') };

/** The settings every tier shares; `include` is each tier's own (mergeConfig would add arrays up). */
export function tierConfig(include: string[], fileParallelism: boolean): ViteUserConfig {
  return defineConfig({
    root: fileURLToPath(new URL('..', import.meta.url)),
    test: {
      include,
      exclude: ['**/node_modules/**', 'actions/*/dist/**'],
      // System tests measure real links: running them side by side would skew their numbers and
      // contend for the two cores, so their files run one after another.
      fileParallelism,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  });
}

export default tierConfig([...TIER_FILES.unit, ...TIER_FILES.system], false);
