// scripts/site-state.sh against real git repositories and a deployed site on disk (file:// URLs):
// the site is deployed only from a tip that is not older than the deployed commit, a rebuild of the
// same tip is allowed, and a run whose commit was refused is published beside the site and fetched
// back by the next build until the tip commits it.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, 'site-state.sh');
const root = mkdtempSync(join(tmpdir(), 'virtnet-site-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const identity = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...identity } }).trim();
}
function state(...args: string[]): { code: number; out: Record<string, string>; text: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });
  const out = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => /^(deploy|reason)=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { code: r.status ?? -1, out, text: r.stdout + r.stderr };
}
function writeRun(dir: string, id: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), `{"runId":"${id}"}\n`);
  writeFileSync(join(dir, 'results.jsonl'), `{"run":"${id}"}\n`);
}

/** A repository with two commits (the first committing run r1), at the second; returns both ids. */
function repo(name: string): { dir: string; first: string; second: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  writeRun(join(dir, 'reports', 'runs', 'r1'), 'r1');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'r1', '--date', '2026-01-01T00:00:00Z');
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(join(dir, 'code.ts'), '1\n');
  git(dir, 'add', '.');
  execFileSync('git', ['commit', '-q', '-m', 'code'], {
    cwd: dir,
    env: { ...process.env, ...identity, GIT_COMMITTER_DATE: '2026-01-02T00:00:00Z' },
  });
  return { dir, first, second: git(dir, 'rev-parse', 'HEAD') };
}

describe('site-state.sh record: deploy only a tip that is not older', () => {
  it('deploys without a deployed state, and publishes an uncommitted run as pending', () => {
    const { dir, second } = repo('first-deploy');
    // render-report wrote run r2 into the tip's reports (its commit was refused: not in git).
    writeRun(join(dir, 'reports', 'runs', 'r2'), 'r2');
    const site = join(root, 'site1');
    mkdirSync(site);
    const r = state('record', dir, join(root, 'none.json'), site, 'r1,r2', '123-1');
    expect(r.code, r.text).toBe(0);
    expect(r.out).toEqual({
      deploy: 'true',
      reason: 'no deployed state: first deployment, or the deployed site could not be read',
    });
    const json = JSON.parse(readFileSync(join(site, 'virtnet-site.json'), 'utf8'));
    expect(json).toEqual({
      formatVersion: 1,
      commit: second,
      commitTime: expect.any(Number),
      builtBy: '123-1',
      pending: [{ runId: 'r2', workflowRun: '123-1' }],
    });
    expect(readFileSync(join(site, 'pending', 'r2', 'results.jsonl'), 'utf8')).toBe('{"run":"r2"}\n');
    expect(existsSync(join(site, 'pending', 'r1'))).toBe(false);
  });

  it('deploys a newer tip or the same one again, never an older one', () => {
    const { dir, first, second } = repo('order');
    const site = join(root, 'site2');
    mkdirSync(site);
    const deployed = (commit: string, time: number) => {
      const f = join(root, `deployed-${commit.slice(0, 8)}-${time}.json`);
      writeFileSync(f, JSON.stringify({ formatVersion: 1, commit, commitTime: time, builtBy: 'x', pending: [] }));
      return f;
    };
    expect(state('record', dir, deployed(first, 1), site, '', '1-1').out).toEqual({
      deploy: 'true',
      reason: `the tip ${second} is newer than the deployed commit ${first}`,
    });
    expect(state('record', dir, deployed(second, 1), site, '', '1-2').out).toEqual({
      deploy: 'true',
      reason: `the tip ${second} is the deployed commit: rebuilt from it`,
    });
    // A build that waited and fetched the older tip while a newer one was deployed.
    git(dir, 'checkout', '-q', '--detach', first);
    expect(state('record', dir, deployed(second, 1), site, '', '1-3').out).toEqual({
      deploy: 'false',
      reason: `the tip ${first} is older than the deployed commit ${second}: the site is not moved back`,
    });
    // Commits git cannot relate (a rewritten history): the commit times decide.
    const unknown = 'f'.repeat(40);
    expect(state('record', dir, deployed(unknown, 4_000_000_000), site, '', '1-4').out.deploy).toBe('false');
    expect(state('record', dir, deployed(unknown, 1), site, '', '1-5').out.deploy).toBe('true');
  });

  it('refuses a deployed state that is not one, naming the file and the value', () => {
    const { dir } = repo('bad');
    const f = join(root, 'bad.json');
    writeFileSync(f, JSON.stringify({ commit: 'main', commitTime: 1 }));
    const r = state('record', dir, f, join(root, 'site-bad'), '', '1-1');
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/bad\.json: commit 'main' is not a commit id/);
  });
});

describe('site-state.sh fetch: pending runs come back until committed', () => {
  it('downloads the pending runs the tip has not committed, and drops those it has', () => {
    const { dir } = repo('fetch');
    const deployedSite = join(root, 'deployed-site');
    writeRun(join(deployedSite, 'pending', 'r2'), 'r2');
    writeRun(join(deployedSite, 'pending', 'r1'), 'r1');
    writeFileSync(
      join(deployedSite, 'virtnet-site.json'),
      JSON.stringify({
        formatVersion: 1,
        commit: 'a'.repeat(40),
        commitTime: 1,
        builtBy: 'x',
        pending: [
          { runId: 'r2', workflowRun: '5-1' },
          { runId: 'r1', workflowRun: '4-1' },
          { runId: 'r3', workflowRun: '3-1' },
        ],
      }),
    );
    const out = join(root, 'fetched');
    const r = state('fetch', `file://${deployedSite}`, dir, out);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/pending run r1 is committed now/);
    expect(r.text).toMatch(/::warning::pending run r3: its files are gone from the deployed site/);
    expect(readFileSync(join(out, 'runs', 'pending-r2', 'manifest.json'), 'utf8')).toBe('{"runId":"r2"}\n');
    expect(existsSync(join(out, 'runs', 'pending-r1'))).toBe(false);
    expect(existsSync(join(out, 'runs', 'pending-r3'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'deployed.json'), 'utf8')).commit).toBe('a'.repeat(40));
  });

  it('without a deployed site there is nothing to compare with and nothing pending', () => {
    const { dir } = repo('fetch-none');
    const out = join(root, 'fetched-none');
    const r = state('fetch', `file://${join(root, 'nowhere')}`, dir, out);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'deployed.json'))).toBe(false);
  });

  it('refuses a pending run id that could leave the folder', () => {
    const { dir } = repo('fetch-bad');
    const deployedSite = join(root, 'hostile-site');
    mkdirSync(deployedSite);
    writeFileSync(
      join(deployedSite, 'virtnet-site.json'),
      JSON.stringify({ commit: 'a'.repeat(40), commitTime: 1, pending: [{ runId: '../../etc' }] }),
    );
    const r = state('fetch', `file://${deployedSite}`, dir, join(root, 'fetched-bad'));
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/pending run id '\.\.\/\.\.\/etc' is not a run id/);
  });
});
