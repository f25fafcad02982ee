// render-report's main as a function: synthetic runs in, reports committed, a site built.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../lib/plan/plan-file.ts';
import { type FoldedGroup, foldedLog, recordingIO } from '../../lib/testing/action-io.ts';
import { syntheticRun } from '../../lib/testing/synthetic.ts';
import { run } from './main.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
// The workspace here is a temporary folder: the paper's claims are named by their path in this checkout.
const CLAIMS = join(REPO, 'env/plans/paper-claims.json');
const work = mkdtempSync(join(tmpdir(), 'virtnet-render-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeRun(dir: string, runId: string): void {
  const r = syntheticRun({
    plan: loadPlan('quick', join(REPO, 'env/plans')).plan,
    environments: ['native', 'docker'],
    replicates: 2,
    seed: 4,
    runId,
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(r.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'results.jsonl'), r.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
}

describe('render-report main', () => {
  it('commits each run found with its report, builds the site, and summarizes with the claims', async () => {
    // Downloaded artifacts: one folder per client, each holding a run directory.
    writeRun(join(work, 'downloaded', 'virtnet-run-native', 'run'), 'run-one');
    const io = recordingIO(
      { runs: 'downloaded', 'reports-dir': 'reports', 'site-dir': 'site', claims: CLAIMS },
      { env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work } },
    );
    await run(io);
    expect(io.failed, io.log.map((l) => l.message).join('\n')).toBeNull();
    expect(io.outputs['run-ids']).toBe('run-one');
    expect(io.outputs['report-dirs']).toBe(join(work, 'reports', 'runs', 'run-one'));
    expect(Number(io.outputs.files)).toBeGreaterThan(10);
    expect(existsSync(join(work, 'reports', 'runs', 'run-one', 'points.csv'))).toBe(true);
    expect(io.outputs['site-index']).toBe(join(work, 'site', 'index.html'));
    expect(existsSync(io.outputs['site-index']!)).toBe(true);
    // The site build's line per run is folded; its summary line follows the group.
    const folded = foldedLog(io.log);
    const group = folded.findIndex((e) => 'group' in e && e.group === 'site: building from 1 committed runs');
    expect(group).toBeGreaterThanOrEqual(0);
    expect((folded[group] as FoldedGroup).lines.map((l) => l.message)).toContainEqual(
      expect.stringContaining('run-one'),
    );
    expect(folded[group + 1]).toEqual({
      level: 'info',
      message: expect.stringMatching(/^site: 1 runs, 0 diffs, \d+ files written, \d+ charts rendered$/),
    });
    expect(io.summary).toContain('## virtnet report');
    expect(io.summary).toContain('Run `run-one`');
    expect(io.summary).toMatch(/supported|refuted|inconclusive/);
  });

  it('fails naming the input when there is no run', async () => {
    mkdirSync(join(work, 'empty'), { recursive: true });
    const io = recordingIO({ runs: 'empty', claims: CLAIMS }, { env: { GITHUB_WORKSPACE: work, RUNNER_TEMP: work } });
    await run(io);
    expect(io.failed).toBe(`input runs: no run directory (with manifest.json) found in ${join(work, 'empty')}`);
  });
});
