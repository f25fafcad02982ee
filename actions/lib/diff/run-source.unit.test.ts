// Resolving diff sides from git: a real temporary repository with runs committed under reports/runs/.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointRecords, testManifest } from '../testing/diff-fixtures.ts';
import { COMMITTED_RUNS_DIR, gitCli, parseRunSpec, resolveRunPair } from './run-source.ts';

const repo = mkdtempSync(join(tmpdir(), 'virtnet-diff-git-'));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: repo,
};

function git(...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

function commit(message: string): string {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}

/** Writes a run (one TCP point at the given throughput) as the pipeline commits it. */
function writeRun(
  dir: string,
  runId: string,
  createdAt: string,
  measuredCommit: string | null,
  throughput: number,
  runnerPair: string | null = null,
): void {
  const path = join(dir, runId);
  mkdirSync(path, { recursive: true });
  // Multi-byte text, so reading several manifests in one git stream must count bytes, not characters.
  const subject = `résumé ✓ ${runId}`;
  writeFileSync(
    join(path, 'manifest.json'),
    `${JSON.stringify(testManifest({ runId, createdAt, runnerPair, git: { commit: measuredCommit, dirty: false, branch: 'main', subject } }), null, 2)}\n`,
  );
  const records = pointRecords('native', 'TCP_STREAM', 100, [throughput, throughput + 0.1, throughput + 0.2]);
  writeFileSync(join(path, 'results.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

const sha: Record<string, string> = {};
const runs = join(repo, COMMITTED_RUNS_DIR);
const ctx = () => ({ git: gitCli(repo) });

beforeAll(() => {
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'code.txt'), 'v1\n');
  sha.code1 = commit('code v1');
  // CI measured code1, then committed the run in a commit of its own.
  writeRun(runs, 'r1', '2026-01-01T00:00:00.000Z', sha.code1, 94);
  sha.results1 = commit('results for code v1');
  writeFileSync(join(repo, 'code.txt'), 'v2\n');
  sha.code2 = commit('code v2');
  writeRun(runs, 'r2', '2026-01-02T00:00:00.000Z', sha.code2, 80);
  sha.results2 = commit('results for code v2');
  writeFileSync(join(repo, 'notes.txt'), 'nothing measured\n');
  sha.docs = commit('docs only');
  // A pull request branch: its code, then CI's run of that code; main stays at docs.
  git('checkout', '-q', '-b', 'feature');
  writeFileSync(join(repo, 'code.txt'), 'v3\n');
  sha.featureCode = commit('feature code');
  writeRun(runs, 'r3', '2026-01-03T00:00:00.000Z', sha.featureCode, 70);
  sha.feature = commit('feature results');
  // Two runs added by one commit: the newest is used, and a note says so.
  writeRun(runs, 'r4a', '2026-01-04T00:00:00.000Z', sha.featureCode, 60);
  writeRun(runs, 'r4b', '2026-01-04T01:00:00.000Z', sha.featureCode, 61);
  sha.double = commit('two runs');
  git('tag', 'base2', sha.results2!);
});

describe('resolving runs from git refs', () => {
  it('a commit that added a run names that run (full or short id, branch expressions)', async () => {
    const [a, b] = await resolveRunPair(sha.results1!.slice(0, 8), 'feature~1', ctx());
    expect(a.manifest.runId).toBe('r1');
    expect(a.origin).toBe(`reports/runs/r1 at commit ${sha.results1!.slice(0, 10)}`);
    expect(a.records).toHaveLength(3);
    expect(a.records[0]!.metrics!.throughputMbps).toBe(94);
    expect(b.manifest.runId).toBe('r3');
    expect([a.notes, b.notes]).toEqual([[], []]);
  });

  it('a commit that was measured (manifest.git.commit) names the run committed later on this branch', async () => {
    const [a, b] = await resolveRunPair(sha.code1!, sha.code2!, ctx());
    expect(a.manifest.runId).toBe('r1');
    expect(b.manifest.runId).toBe('r2');
    expect(b.origin).toBe(`reports/runs/r2 at commit ${sha.double!.slice(0, 10)}`);
  });

  it('several runs at one commit: the newest, with a note naming the others', async () => {
    const [, b] = await resolveRunPair(sha.code1!, 'feature', ctx());
    expect(b.manifest.runId).toBe('r4b');
    expect(b.notes.join('\n')).toMatch(/2 runs found \(r4b, r4a\); using the newest, r4b/);
  });

  it('previous: the newest committed run older than the other side', async () => {
    const [a, b] = await resolveRunPair('previous', 'feature~1', ctx());
    expect(a.manifest.runId).toBe('r2');
    expect(a.manifest.git.subject).toBe('résumé ✓ r2');
    expect(a.label).toBe('previous');
    expect(b.manifest.runId).toBe('r3');
    // Against an uncommitted run directory: by its creation time.
    const dir = join(repo, '..', `${repo.split('/').pop()}-fresh`);
    writeRun(join(dir, '..'), dir.split('/').pop()!, '2026-01-02T12:00:00.000Z', null, 90);
    try {
      const [p] = await resolveRunPair('previous', dir, ctx());
      expect(p.manifest.runId).toBe('r2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A run of a runner pair: only that pair's runs are its baseline (every committed run here has none).
    writeRun(join(dir, '..'), dir.split('/').pop()!, '2026-01-02T12:00:00.000Z', null, 90, 'epyc');
    try {
      await expect(resolveRunPair('previous', dir, ctx())).rejects.toThrow(
        /^previous: no run of runner pair epyc committed under reports\/runs\/ on this branch is older than run /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pr-base: the run at the merge base with GITHUB_BASE_REF, or the newest run committed there', async () => {
    const [viaTag] = await resolveRunPair('pr-base', 'HEAD', { ...ctx(), baseRef: 'base2' });
    expect(viaTag.manifest.runId).toBe('r2');
    expect(viaTag.notes[0]).toMatch(/merge base .* of base2 and HEAD/);
    // main's tip (docs) has no run of its own: the newest run in its tree stands in.
    const [viaMain] = await resolveRunPair('pr-base', 'HEAD', { ...ctx(), baseRef: 'main' });
    expect(viaMain.manifest.runId).toBe('r2');
    expect(viaMain.notes.join(' ')).toMatch(/has no run of its own; using the newest run committed there, r2/);
  });
});

describe('clear errors', () => {
  const cases: [string, string, string, RegExp, string?][] = [
    [
      'an unknown ref',
      'no-such-branch',
      'HEAD',
      /no-such-branch: not a run directory, and git knows no such ref or commit/,
    ],
    [
      'a commit without a run',
      'main',
      'HEAD',
      /main \(commit [0-9a-f]{10}\): no run at that commit: it added nothing under reports\/runs\/, and no committed run's manifest.git.commit is that commit/,
    ],
    ['previous on both sides', 'previous', 'previous', /only one side can be previous/],
    [
      'nothing older than the other side',
      sha.results1 ?? 'HEAD',
      'previous',
      /previous: no run committed under reports\/runs\/ on this branch is older than run r1/,
    ],
    ['pr-base outside a pull request', 'pr-base', 'HEAD', /pr-base: GITHUB_BASE_REF is not set/],
    ['pr-base on an unknown base', 'pr-base', 'HEAD', /pr-base: neither origin\/gone nor gone is known to git/, 'gone'],
  ];
  it.each(cases)('%s', async (_, a, b, message, baseRef) => {
    // sha is filled in beforeAll, after it.each read the table: map the placeholder late.
    const argA = a === 'HEAD' ? sha.results1! : a;
    await expect(resolveRunPair(argA, b, { ...ctx(), baseRef })).rejects.toThrow(message);
  });

  it('a committed manifest that is not valid: the error names the file and the commit', async () => {
    const other = mkdtempSync(join(tmpdir(), 'virtnet-diff-git-broken-'));
    const g = (...args: string[]) =>
      execFileSync('git', ['-C', other, ...args], { env: { ...GIT_ENV, HOME: other }, encoding: 'utf8' }).trim();
    try {
      g('init', '-q', '-b', 'main');
      mkdirSync(join(other, COMMITTED_RUNS_DIR, 'bad'), { recursive: true });
      writeFileSync(join(other, COMMITTED_RUNS_DIR, 'bad', 'manifest.json'), '{"kind": "virtnet-run",');
      g('add', '-A');
      g('commit', '-q', '-m', 'broken run');
      const head = g('rev-parse', 'HEAD');
      await expect(resolveRunPair('HEAD', 'HEAD', { git: gitCli(other) })).rejects.toThrow(
        `reports/runs/bad/manifest.json at commit ${head.slice(0, 10)}: not valid JSON`,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a directory that is not a run, a file, a ref outside any repository', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'virtnet-not-a-run-'));
    try {
      await expect(resolveRunPair(empty, 'HEAD', ctx())).rejects.toThrow(
        `${empty} is a directory but not a virtnet run: it has no manifest.json`,
      );
      writeFileSync(join(empty, 'x.txt'), 'x');
      expect(() => parseRunSpec(join(empty, 'x.txt'))).toThrow(/is a file, not a run directory/);
      await expect(resolveRunPair('HEAD', 'HEAD', { git: gitCli(empty) })).rejects.toThrow(
        /HEAD: not a run directory, and git knows no such ref/,
      );
      await expect(resolveRunPair('--output=/tmp/x', 'HEAD', ctx())).rejects.toThrow(/git knows no such ref/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
