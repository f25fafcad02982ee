// diff-results' main as a function: two run directories in, the summary, the diff file and the
// outputs out; a regression fails the step only when asked to.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../lib/plan/plan-file.ts';
import { recordingIO } from '../../lib/testing/action-io.ts';
import { scaleThroughput } from '../../lib/testing/diff-fixtures.ts';
import { syntheticRun } from '../../lib/testing/synthetic.ts';
import { run } from './main.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
// The workspace here is a temporary folder: the paper's claims are named by their path in this checkout.
const CLAIMS = join(REPO, 'env/plans/paper-claims.json');
const work = mkdtempSync(join(tmpdir(), 'virtnet-diff-results-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { GITHUB_WORKSPACE: work, RUNNER_TEMP: work };

function writeRun(name: string, runId: string, slower: number): void {
  const r = syntheticRun({
    plan: loadPlan('quick', join(REPO, 'env/plans')).plan,
    environments: ['native'],
    replicates: 5,
    seed: 9,
    runId,
    noise: 0.001,
  });
  const records = scaleThroughput(r.records, (x) => x.test === 'TCP_STREAM', slower);
  mkdirSync(join(work, name), { recursive: true });
  writeFileSync(join(work, name, 'manifest.json'), `${JSON.stringify(r.manifest, null, 2)}\n`);
  writeFileSync(join(work, name, 'results.jsonl'), records.map((x) => `${JSON.stringify(x)}\n`).join(''));
}

writeRun('before', 'run-a', 1);
writeRun('after', 'run-b', 0.8);

describe('diff-results main', () => {
  it('diffs two run directories of the workspace: summary, diff file, counts', async () => {
    const io = recordingIO({ baseline: 'before', current: 'after', format: 'json', claims: CLAIMS }, { env });
    await run(io);
    expect(io.failed, io.log.map((l) => l.message).join('\n')).toBeNull();
    expect(Number(io.outputs.regressed)).toBe(4);
    expect(io.outputs['diff-file']).toBe(join(work, 'virtnet-diff.json'));
    const diff = JSON.parse(readFileSync(io.outputs['diff-file']!, 'utf8'));
    expect(diff).toMatchObject({ format: 'virtnet-diff', summary: { regressed: 4 } });
    expect(io.summary).toContain('run-a');
  });

  it('fails on a regression only with fail-on-regression', async () => {
    const io = recordingIO(
      { baseline: 'before', current: 'after', 'fail-on-regression': 'true', claims: CLAIMS },
      { env },
    );
    await run(io);
    expect(io.failed).toBe('4 points regressed beyond 5% (fail-on-regression)');
  });

  it('names the input and the repository when a side is neither a run nor a commit', async () => {
    const bad = recordingIO({ baseline: 'before', current: 'after', threshold: 'ten', claims: CLAIMS }, { env });
    await run(bad);
    expect(bad.failed).toBe('input threshold: expected a number from 0 to 1000 such as 5 or 2.5, got "ten"');
    const io = recordingIO({ baseline: 'no-such-ref', current: 'after', claims: CLAIMS }, { env });
    await run(io);
    expect(io.failed).toMatch(
      new RegExp(
        `^no-such-ref: not a run directory, and git knows no such ref or commit in ${work} \\(input repository`,
      ),
    );
  });
});
