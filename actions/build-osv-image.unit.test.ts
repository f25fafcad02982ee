// build-osv-image's bundle run as the runner runs it, on its cache path (building OSv needs the
// internet, which these machines do not have; env/osv's tests cover the build plan itself).

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metadataPathFor, osvBuildPlan, PINNED_OSV } from '../env/osv/build-plan.ts';
import { runAction } from './lib/testing/run-action.ts';

const REPO = join(import.meta.dirname, '..');
const temp = mkdtempSync(join(tmpdir(), 'virtnet-osv-action-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const script = join(REPO, 'actions', 'build-osv-image', 'dist', 'index.js');

describe('build-osv-image action', () => {
  it('reuses the cached image for unchanged inputs (cache-only), and says which key it looked for when there is none', async () => {
    const cacheDir = join(temp, 'cache');
    const miss = await runAction(script, {
      inputs: { 'cache-dir': cacheDir, 'cache-only': 'true' },
      workspace: REPO,
      runnerTemp: temp,
      timeoutMs: 30_000,
    });
    expect(miss.exitCode).toBe(1);
    const plan = osvBuildPlan({
      variant: 'netperf-app',
      sourceDir: join(temp, 'osv-src'),
      outDir: cacheDir,
      jobs: 2,
      commit: PINNED_OSV.commit,
    });
    expect(miss.stdout).toContain(
      `::error::no cached image for key ${plan.key} in ${cacheDir}, and cache-only is true`,
    );

    mkdirSync(join(plan.image, '..'), { recursive: true });
    writeFileSync(plan.image, 'qcow2 stand-in');
    // As a build leaves it: the metadata records the image's hash, which the cache checks before use.
    writeFileSync(
      metadataPathFor(plan.image),
      JSON.stringify({
        ...plan.metadata,
        key: plan.key,
        imageSha256: createHash('sha256').update('qcow2 stand-in').digest('hex'),
      }),
    );
    const hit = await runAction(script, {
      inputs: { 'cache-dir': cacheDir, 'cache-only': 'true' },
      workspace: REPO,
      runnerTemp: temp,
      timeoutMs: 30_000,
    });
    expect(hit.stdout + hit.stderr).not.toMatch(/::error::/);
    expect(hit.exitCode).toBe(0);
    expect(hit.outputs).toEqual({
      image: plan.image,
      commit: PINNED_OSV.commit,
      'command-line': '--rootfs=rofs /tools/netserver.so -D -4 -f',
      'cache-key': plan.key,
      'cache-hit': 'true',
    });
  });

  it('refuses a commit that is not a full commit id, naming the input', async () => {
    const r = await runAction(script, {
      inputs: { 'osv-commit': 'master' },
      workspace: REPO,
      runnerTemp: temp,
      timeoutMs: 30_000,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('::error::input osv-commit: expected a full 40-hex commit id, got "master"');
  });
});
