// virtnet diff end to end: two real quick runs on a real namespace testbed, diffed in all three
// formats, with themselves, with a copy whose native TCP throughputs are scaled by 0.8, and
// through git refs in a temporary repository with committed reports/runs/.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleThroughput } from '../../actions/lib/testing/diff-fixtures.ts';
import type { PointDiff, RunDiff } from '../../actions/lib/diff/diff.ts';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { summarizePoints } from '../../actions/lib/analyse/aggregate.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from '../../actions/lib/testing/requirements.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown } from '../../env/testbed/testbed.ts';

const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const index = testIndex(0);
const work = mkdtempSync(join(tmpdir(), 'virtnet-diff-'));
const runA = join(work, 'a');
const runB = join(work, 'b');
afterAll(async () => {
  await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], {
    timeoutMs: 180_000,
    env: { ...process.env, GITHUB_BASE_REF: '' },
  });
}

async function diffJson(...args: string[]): Promise<{ exitCode: number | null; diff: RunDiff; stderr: string }> {
  const r = await virtnet('diff', ...args, '--format', 'json');
  expect(r.stdout.length, r.stderr).toBeGreaterThan(0);
  return { exitCode: r.exitCode, diff: JSON.parse(r.stdout) as RunDiff, stderr: r.stderr };
}

/** A copy of a run directory with its native TCP throughputs multiplied by factor. */
function scaledCopy(from: string, to: string, factor: number): void {
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, 'manifest.json'), join(to, 'manifest.json'));
  const records = scaleThroughput(
    loadRun(from).results.records,
    (r) => r.environment === 'native' && r.test === 'TCP_STREAM',
    factor,
  );
  writeFileSync(join(to, 'results.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

describe.skipIf(missing !== null)(`virtnet diff on real runs (native, real testbed)${skipNote(missing)}`, () => {
  beforeAll(async () => {
    for (const out of [runA, runB]) {
      const r = await virtnet(
        'run',
        '--plan',
        'quick',
        '--env',
        'native',
        '--replicates',
        '3',
        '--out',
        out,
        '--index',
        String(index),
        '--no-report',
      );
      // A replicate that fails (netperf errors happen on a busy machine) leaves the run
      // "incomplete" (exit 1) with the rest measured: still a run to diff.
      expect(r.stdout, r.stderr).toMatch(/run (complete|incomplete): \d+ measured, [0-3] failed/);
    }
  }, 300_000);

  it('diffs two independent runs in all three formats', async () => {
    const text = await virtnet('diff', runA, runB);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(`A (baseline):  ${runA}: run `);
    expect(text.stdout).toMatch(/native TCP_STREAM from-100 \(-s, bytes\)\n\s+-s\s+A mean ± CI95 \(n\)/);
    expect(text.stdout).toMatch(/native UDP_STREAM from-50 \(-r, bytes\)/);
    expect(text.stdout).toMatch(
      /Summary: 8 points compared: \d+ improved, \d+ regressed, \d+ unchanged, \d+ undecided/,
    );
    expect(text.stderr).toBe(`A: ${runA}\nB: ${runB}\n`);

    const markdown = await virtnet('diff', runA, runB, '--format', 'markdown');
    expect(markdown.exitCode).toBe(0);
    expect(markdown.stdout).toMatch(/^## virtnet diff: /);
    expect(markdown.stdout).toMatch(
      /\| -s \(bytes\) \| A mean ± CI95 \(n\) \| B mean ± CI95 \(n\) \| change \| p \(Holm\) \| significant \| verdict \|/,
    );

    const { exitCode, diff } = await diffJson(runA, runB);
    expect(exitCode).toBe(0);
    expect(diff.summary).toMatchObject({ compared: 8, added: 0, removed: 0 });
    const replicated = diff.points.filter((p) => p.a.n >= 2 && p.b.n >= 2);
    expect(replicated.length).toBeGreaterThanOrEqual(6);
    expect(replicated.every((p) => p.method === 'welch' && p.p !== null)).toBe(true);
    expect(diff.summary.tested).toBe(replicated.length);
    expect(diff.curves).toHaveLength(2);
    // Same plan, environment and testbed: whatever else differs is the machine changing under us.
    expect(
      diff.manifestDifferences.filter(
        (m) => m.category === 'plan' || m.category === 'environments' || m.category === 'testbed',
      ),
    ).toEqual([]);
    // Figures for the report: how many points two independent runs call significant.
    const significant = (p: PointDiff) => p.significance === 'significant';
    console.log(
      `two independent quick runs (3 replicates): ${diff.points.filter(significant).length} of ${diff.points.length} points significant (Holm, alpha 0.05); ${diff.summary.regressed} regressed, ${diff.summary.improved} improved; changes ${diff.points.map((p) => `${p.test[0]}${p.value} ${p.changePercent?.toFixed(1)}%`).join(', ')}`,
    );
  });

  it('a run diffed with itself reports zero significant changes, even under --fail-on-regression', async () => {
    const r = await virtnet('diff', runA, runA, '--fail-on-regression');
    expect(r.exitCode, r.stderr).toBe(0);
    const { diff } = await diffJson(runA, runA);
    expect(diff.summary).toMatchObject({ compared: 8, improved: 0, regressed: 0, significant: 0, unchanged: 8 });
    expect(diff.points.every((p) => p.changePercent === 0 && (p.a.n < 2 || p.p === 1))).toBe(true);
    expect(diff.manifestDifferences).toEqual([]);
  });

  it('a copy with native TCP scaled by 0.8: those points are significant regressions, exit status 3', async () => {
    // Of the two runs, scale the quieter: a 20 % drop must stand out of its replicate spread.
    const cv = (dir: string) =>
      Math.max(
        ...summarizePoints(loadRun(dir).results.records)
          .filter((p) => p.test === 'TCP_STREAM')
          .map((p) => p.throughput.stdev / p.throughput.mean),
      );
    const base = cv(runA) <= cv(runB) ? runA : runB;
    const scaled = join(work, 'scaled');
    scaledCopy(base, scaled, 0.8);
    const r = await virtnet('diff', base, scaled, '--fail-on-regression');
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/virtnet diff: \d regressed points? \(--fail-on-regression\)/);
    const { exitCode, diff } = await diffJson(base, scaled, '--fail-on-regression');
    expect(exitCode).toBe(3);
    const tcp = diff.points.filter((p) => p.test === 'TCP_STREAM');
    expect(tcp).toHaveLength(4);
    for (const p of tcp) {
      expect(p.changePercent!).toBeCloseTo(-20, 0);
      // With 3 replicates, Welch's test (Holm over 8 points) detects a 20 % drop whenever the
      // replicates vary by less than 3 % (t > 9): on a quiet testbed (~0.2 %) that is every point.
      const pointCv = (p.a.stdev ?? 0) / (p.a.mean ?? 1);
      if (pointCv < 0.03)
        expect(p, `TCP -s ${p.value}: CV ${(pointCv * 100).toFixed(1)}%`).toMatchObject({
          significance: 'significant',
          classification: 'regressed',
        });
    }
    expect(diff.summary.regressed).toBeGreaterThan(0);
    expect(diff.summary.regressed).toBe(tcp.filter((p) => p.classification === 'regressed').length);
    expect(
      diff.points
        .filter((p) => p.test === 'UDP_STREAM')
        .every((p) => p.changePercent === 0 && p.classification === 'unchanged'),
    ).toBe(true);
    console.log(
      `scaled copy: ${diff.summary.regressed} of 4 TCP points regressed (TCP CVs ${tcp.map((p) => `${((100 * (p.a.stdev ?? 0)) / (p.a.mean ?? 1)).toFixed(1)}%`).join(', ')}; Holm p ${tcp.map((p) => p.pAdjusted?.toExponential(1)).join(', ')})`,
    );
  });

  it('--out writes the diff page, its charts and the three formats', async () => {
    const out = join(work, 'diff-out');
    const r = await virtnet('diff', runA, runB, '--out', out);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'charts/diff-native-tcp-stream.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('Native Linux, TCP_STREAM: A vs B');
    expect(JSON.parse(readFileSync(join(out, 'diff.json'), 'utf8')).format).toBe('virtnet-diff');
    expect(readFileSync(join(out, 'diff.txt'), 'utf8')).toBe(r.stdout);
  });

  it('resolves git refs, previous and commits to runs committed under reports/runs/', async () => {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: repo,
    };
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { env, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    const ids: string[] = [];
    for (const dir of [runA, runB]) {
      const id = loadRun(dir).manifest.runId;
      ids.push(id);
      mkdirSync(join(repo, 'reports/runs', id), { recursive: true });
      for (const f of ['manifest.json', 'results.jsonl']) copyFileSync(join(dir, f), join(repo, 'reports/runs', id, f));
      git('add', '-A');
      git('commit', '-q', '-m', `results ${id}`);
    }
    const byRef = await diffJson('HEAD~1', 'HEAD', '--repo', repo);
    expect([byRef.diff.a.runId, byRef.diff.b.runId]).toEqual(ids);
    expect(byRef.diff.a.label).toBe('HEAD~1');
    expect(byRef.stderr).toContain(`A: reports/runs/${ids[0]} at commit `);
    const previous = await diffJson('previous', 'HEAD', '--repo', repo);
    expect([previous.diff.a.runId, previous.diff.b.runId]).toEqual(ids);
    expect(previous.stderr).toMatch(/note: previous: run \S+ \(created .*\), the newest committed run older than/);
    // The committed run and the directory it came from are the same run: nothing changes.
    const same = await diffJson(runB, 'HEAD', '--repo', repo);
    expect(same.diff.summary.significant).toBe(0);

    const unknown = await virtnet('diff', 'nosuch', 'HEAD', '--repo', repo);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/virtnet diff: nosuch: not a run directory, and git knows no such ref or commit/);
    writeFileSync(join(repo, 'README'), 'x');
    git('add', '-A');
    git('commit', '-q', '-m', 'docs');
    const noRun = await virtnet('diff', 'HEAD~1', 'HEAD', '--repo', repo);
    expect(noRun.exitCode).toBe(1);
    expect(noRun.stderr).toMatch(/HEAD \(commit [0-9a-f]{10}\): no run at that commit/);
  });
});
