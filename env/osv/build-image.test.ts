// The executor of the OSv build plan, run on a plan of harmless local steps (the real steps need
// internet access): steps in order, the image kept with its metadata, the cache honoured.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeOsvBuild } from './build-image.ts';
import { osvBuildPlan, type OsvBuildPlan } from './build-plan.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-osv-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The real plan's paths and metadata, with its commands replaced by local ones that leave an "image". */
function localPlan(): OsvBuildPlan {
  const real = osvBuildPlan({ variant: 'netperf-app', sourceDir: join(work, 'src'), outDir: join(work, 'images'), jobs: 1 });
  const trace = join(work, 'trace');
  return {
    ...real,
    steps: [
      { name: 'first', argv: ['sh', '-c', `echo first >> ${trace}`], cwd: join(work, 'src') },
      { name: 'make the image', argv: ['sh', '-c', `echo second >> ${trace}; printf 'QFI\\373 pretend image' > build.img`], cwd: join(work, 'src') },
      { name: 'keep the image', argv: ['cp', 'build.img', `${real.image}.partial`], cwd: join(work, 'src') },
    ],
  };
}

describe('OSv build executor', () => {
  it('runs the steps in order, keeps the image with its metadata, and reuses it while the key is the same', async () => {
    const plan = localPlan();
    const lines: string[] = [];
    const first = await executeOsvBuild(plan, (l) => lines.push(l));
    expect(first).toMatchObject({ image: plan.image, cached: false });
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('first\nsecond\n');
    expect(existsSync(`${plan.image}.partial`)).toBe(false);
    const meta = JSON.parse(readFileSync(plan.metadataFile, 'utf8'));
    expect(meta).toMatchObject({ kind: 'virtnet-osv-image', key: plan.key, osvCommit: plan.metadata.osvCommit, variant: 'netperf-app' });
    expect(meta.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lines[0]).toBe('[1/3] first: sh -c echo first >> ' + join(work, 'trace'));

    const again = await executeOsvBuild(plan, () => {});
    expect(again).toMatchObject({ image: plan.image, cached: true });
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('first\nsecond\n');
  });

  it('stops at the first failing step, naming it, and keeps no image', async () => {
    const plan = { ...localPlan(), image: join(work, 'images', 'broken.img'), metadataFile: join(work, 'images', 'broken.img.virtnet.json') };
    plan.steps = [{ name: 'fail', argv: ['sh', '-c', 'exit 3'], cwd: work }, ...plan.steps];
    writeFileSync(join(work, 'trace'), '');
    await expect(executeOsvBuild(plan, () => {})).rejects.toThrow('fail: sh -c exit 3 exited with 3');
    expect(existsSync(plan.image)).toBe(false);
    expect(readFileSync(join(work, 'trace'), 'utf8')).toBe('');
  });
});
