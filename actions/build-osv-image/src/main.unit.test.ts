// build-osv-image's main as a function: the cache decides (no OSv build here: that needs internet).

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO } from '../../lib/testing/action-io.ts';
import { commandLineFor, osvBuildPlan, PINNED_OSV } from '../../../env/osv/build-plan.ts';
import { run } from './main.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-build-osv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { GITHUB_WORKSPACE: work, RUNNER_TEMP: work };
const cacheDir = join(work, 'cache');
const plan = osvBuildPlan({
  variant: 'netperf-app',
  sourceDir: join(work, 'osv-src'),
  outDir: cacheDir,
  jobs: 2,
  commit: PINNED_OSV.commit,
});

describe('build-osv-image main', () => {
  it('cache-only without a cached image fails naming the key, and builds nothing', async () => {
    const io = recordingIO({ 'cache-dir': cacheDir, 'cache-only': 'true' }, { env });
    await run(io);
    expect(io.failed).toBe(`no cached image for key ${plan.key} in ${cacheDir}, and cache-only is true`);
    expect(io.outputs).toEqual({});
  });

  it('a cached image built from the same inputs is used as it is', async () => {
    mkdirSync(dirname(plan.image), { recursive: true });
    writeFileSync(plan.image, 'qcow2');
    // As a build leaves it: the image's hash recorded, which the cache checks before use.
    writeFileSync(
      plan.metadataFile,
      JSON.stringify({ key: plan.key, imageSha256: createHash('sha256').update('qcow2').digest('hex') }),
    );
    const io = recordingIO({ 'cache-dir': cacheDir, 'cache-only': 'true' }, { env });
    await run(io);
    expect(io.failed).toBeNull();
    expect(io.outputs).toEqual({
      image: plan.image,
      commit: PINNED_OSV.commit,
      'command-line': commandLineFor('netperf-app'),
      'cache-key': plan.key,
      'cache-hit': 'true',
    });
  });

  it('refuses a commit that is not a full id', async () => {
    const io = recordingIO({ 'osv-commit': 'master' }, { env });
    await run(io);
    expect(io.failed).toBe('input osv-commit: expected a full 40-hex commit id, got "master"');
  });
});
