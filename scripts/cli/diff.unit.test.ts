// virtnet diff and report --diff on synthetic runs, and diff's refusals of bad input (no testbed).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDiff } from '../../actions/lib/diff/diff.ts';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { loadPlan } from '../../actions/lib/plan/plan-file.ts';
import { syntheticRun } from '../../actions/lib/testing/synthetic.ts';
import { PLANS_DIR } from './common.ts';
const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-diff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

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

describe('virtnet diff refuses bad input with a clear message', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['one run only', ['diff', '/'], 2, /expected two runs, A \(the baseline\) and B/],
    [
      'an unknown format',
      ['diff', 'a', 'b', '--format', 'html'],
      2,
      /--format: expected one of text, markdown, json, got "html"/,
    ],
    [
      'a bad alpha',
      ['diff', 'a', 'b', '--alpha', '5'],
      2,
      /--alpha: expected a probability strictly between 0 and 1, got "5"/,
    ],
    [
      'a bad threshold',
      ['diff', 'a', 'b', '--threshold', 'ten'],
      2,
      /--threshold: expected a number from 0 to 1000 such as 5 or 2.5, got "ten"/,
    ],
    [
      'a bad correction',
      ['diff', 'a', 'b', '--correction', 'bonferroni'],
      2,
      /--correction: expected holm or none, got "bonferroni"/,
    ],
    [
      'a directory that is not a run',
      ['diff', '/', '/'],
      1,
      /virtnet diff: \/ is a directory but not a virtnet run: it has no manifest\.json/,
    ],
    ['pr-base outside a pull request', ['diff', 'pr-base', '/'], 1, /pr-base: GITHUB_BASE_REF is not set/],
  ];
  it.each(cases)('%s', async (_, args, code, message) => {
    const r = await virtnet(...args);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('lists diff in the usage text', async () => {
    const r = await virtnet('--help');
    expect(r.stdout).toContain(
      'virtnet diff <A> <B> [--format text|markdown|json] [--only-changed] [--threshold PCT] [--alpha P] [--fail-on-regression]',
    );
    expect(existsSync(CLI)).toBe(true);
  });
});

describe('virtnet diff and report --diff on synthetic runs (no testbed)', () => {
  const syntheticDir = join(work, 'synthetic');
  const write = (r: ReturnType<typeof syntheticRun>) => {
    const dir = join(syntheticDir, r.manifest.runId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r.manifest));
    writeFileSync(join(dir, 'results.jsonl'), r.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
    return dir;
  };
  const { plan } = loadPlan('quick', PLANS_DIR);
  const envs = ['native', 'docker', 'kvm', 'osv'];
  // The paper's shapes, then every environment flat like native: "none performs as well as native"
  // (UDP), undecided on the paper's few quick points, is refuted when Docker equals native.
  const paper = write(syntheticRun({ plan, environments: envs, replicates: 3, seed: 1, runId: 'paper-shaped' }));
  const flat = write(
    syntheticRun({
      plan,
      environments: envs,
      replicates: 3,
      seed: 2,
      runId: 'flat',
      profile: 'flat',
      createdAt: '2026-01-02T00:00:00.000Z',
    }),
  );

  it('lists the claims whose verdict changed in every format', async () => {
    const { exitCode, diff } = await diffJson(paper, flat);
    expect(exitCode).toBe(0);
    expect(diff.claimChanges).toContainEqual(
      expect.objectContaining({ id: 'udp-none-beats-native', a: 'inconclusive', b: 'refuted' }),
    );
    const text = await virtnet('diff', paper, flat);
    expect(text.stdout).toMatch(
      /Claims whose verdict changed:\n( {2}.*\n)* {2}udp-none-beats-native: inconclusive -> refuted: /,
    );
    const markdown = await virtnet('diff', paper, flat, '--format', 'markdown');
    expect(markdown.stdout).toMatch(/\| udp-none-beats-native \| inconclusive \| refuted \|/);
    const same = await diffJson(paper, paper);
    expect(same.diff.claimChanges).toEqual([]);
  });

  it('report --site builds the diff pages, --diff adds a pair, bad pairs are usage errors', async () => {
    const site = join(work, 'synthetic-site');
    const r = await virtnet('report', paper, flat, '--site', site, '--diff', 'flat:paper-shaped');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/diff paper-shaped -> flat: \d+ regressed, \d+ improved: /);
    expect(r.stdout).toMatch(/diff flat -> paper-shaped: /);
    expect(r.stdout).toMatch(/site: 2 runs, 2 diffs, /);
    expect(readFileSync(join(site, 'diffs/paper-shaped--flat/index.html'), 'utf8')).toContain(
      '<td>udp-none-beats-native</td><td>inconclusive</td><td>refuted</td>',
    );
    expect(readFileSync(join(site, 'compare.html'), 'utf8')).toContain('--diff flat:paper-shaped"');
    const bad = await virtnet('report', paper, flat, '--site', site, '--diff', 'flat:nope');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(
      /--diff: "flat:nope": no run with id "nope" among the runs given \(flat, paper-shaped\)/,
    );
    const noSite = await virtnet('report', paper, '--diff', 'a:b');
    expect(noSite.exitCode).toBe(2);
    expect(noSite.stderr).toMatch(/--diff only goes with --site/);
  }, 120_000);

  it('--claims names the claims file: another file is judged, a bad one is refused naming the claim, field and value', async () => {
    const paperClaims = JSON.parse(readFileSync(join(PLANS_DIR, 'paper-claims.json'), 'utf8'));
    const mine = join(work, 'one-claim.json');
    writeFileSync(
      mine,
      JSON.stringify({
        ...paperClaims,
        claims: paperClaims.claims.filter((c: { id: string }) => c.id === 'tcp-replicates-identical'),
      }),
    );
    const out = join(work, 'one-claim-report');
    const ok = await virtnet('report', paper, '--out', out, '--claims', mine);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ supported {2}tcp-replicates-identical: /);
    expect(ok.stdout).toMatch(/\n {2}1 claim: 1 supported, 0 refuted, 0 inconclusive\n/);
    expect(readFileSync(join(out, 'claims.md'), 'utf8').match(/^\| [^|]+ \| III/gm)).toHaveLength(1);
    const bad = join(work, 'bad-claims.json');
    writeFileSync(
      bad,
      JSON.stringify({
        ...paperClaims,
        claims: paperClaims.claims.map((c: { id: string; spreadRatio?: number }) =>
          c.id === 'tcp-kvm-unstable' ? { ...c, spreadRatio: undefined, minimumDrop: 0.05 } : c,
        ),
      }),
    );
    const refused = await virtnet('diff', paper, flat, '--claims', bad);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`${bad} is not a valid claims file:`);
    expect(refused.stderr).toMatch(/claims\[5\] \(tcp-kvm-unstable\)\.minimumDrop: unknown field \(value 0\.05\)/);
    expect(refused.stderr).toMatch(/claims\[5\] \(tcp-kvm-unstable\)\.spreadRatio: missing: expected number/);
  }, 120_000);
});
