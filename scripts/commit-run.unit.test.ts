// scripts/commit-run.sh against real git repositories: a push rejected because another job pushed
// first is redone from a fresh fetch (never forced), and both commits end up on the branch.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, './commit-run.sh');
const root = mkdtempSync(join(tmpdir(), 'virtnet-commit-run-'));
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

function setup(name: string): { origin: string; work: string; other: string } {
  const origin = join(root, `${name}-origin.git`);
  const work = join(root, `${name}-work`);
  const other = join(root, `${name}-other`);
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  git(root, 'clone', '-q', origin, other);
  writeFileSync(join(other, 'README.md'), 'x\n');
  git(other, 'add', '.');
  git(other, 'commit', '-q', '-m', 'first');
  git(other, 'push', '-q', 'origin', 'HEAD:main');
  git(root, 'clone', '-q', origin, work);
  mkdirSync(join(work, 'reports', 'runs', 'r1', 'report'), { recursive: true });
  writeFileSync(join(work, 'reports', 'runs', 'r1', 'manifest.json'), '{}\n');
  writeFileSync(join(work, 'reports', 'runs', 'r1', 'report', 'points.csv'), 'a,b\n');
  return { origin, work, other };
}

function commitRun(work: string, env: Record<string, string> = {}) {
  return execFileSync('bash', [SCRIPT, 'reports/runs/r1', 'reports: run r1'], {
    cwd: work,
    encoding: 'utf8',
    stdio: 'pipe',
    env: { ...process.env, ...identity, ...env },
  });
}

describe('commit-run.sh', () => {
  it('commits the folder onto the branch and pushes it; a second call has nothing to do', () => {
    const { origin, work } = setup('simple');
    expect(commitRun(work)).toMatch(/pushed [0-9a-f]+ to main \(attempt 1\)/);
    expect(git(origin, 'log', '--format=%s', 'main')).toBe('reports: run r1\nfirst');
    expect(git(origin, 'show', 'main:reports/runs/r1/report/points.csv')).toBe('a,b');
    expect(commitRun(work)).toMatch(/already on main as it is: nothing to commit/);
  });

  it('redoes fetch-commit-push when another job pushed in between, never forcing', () => {
    const { origin, work, other } = setup('race');
    // A pre-push hook that, on the first push only, lets another job push first: our push is then rejected.
    const hook = join(work, '.git', 'hooks', 'pre-push');
    writeFileSync(
      hook,
      `#!/bin/sh
if [ ! -e "${root}/race-done" ]; then
  touch "${root}/race-done"
  # A hook runs with the pushing repository's GIT_DIR; the other job is another repository.
  unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
  export GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@example.invalid GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@example.invalid
  cd "${other}" && echo y > other.txt && git add other.txt && git commit -q -m "another job" && git push -q origin HEAD:main
fi
exit 0
`,
    );
    chmodSync(hook, 0o755);
    const out = commitRun(work);
    expect(out).toMatch(/push rejected \(attempt 1 of 5\)/);
    expect(out).toMatch(/pushed [0-9a-f]+ to main \(attempt 2\)/);
    // Linear history holding both: nothing of the other job was overwritten.
    expect(git(origin, 'log', '--format=%s', 'main')).toBe('reports: run r1\nanother job\nfirst');
    expect(git(origin, 'show', 'main:other.txt')).toBe('y');
  });

  it('stops at once when branch protection refuses the push (GH006), saying how to allow it', () => {
    const { origin, work } = setup('protected');
    // What GitHub's server says for a protected branch, from a hook of the bare origin.
    const hook = join(origin, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\necho "error: GH006: Protected branch update failed for refs/heads/main." >&2\necho "error: Changes must be made through a pull request." >&2\nexit 1\n',
    );
    chmodSync(hook, 0o755);
    let failure: { status: number; stdout: string; stderr: string } | null = null;
    try {
      commitRun(work, { COMMIT_ATTEMPTS: '5' });
    } catch (e) {
      failure = e as { status: number; stdout: string; stderr: string };
    }
    expect(failure?.status).toBe(3);
    expect(failure!.stderr).toMatch(/GH006: Protected branch update failed/);
    expect(failure!.stderr).toMatch(/main is protected and refused the push .*retrying cannot pass it/);
    expect(failure!.stderr).toMatch(/repository secret VIRTNET_PUSH_TOKEN/);
    // One attempt only: no retry loop against a rule that cannot change.
    expect(`${failure!.stdout}`).not.toMatch(/push rejected \(attempt/);
    expect(git(origin, 'log', '--format=%s', 'main')).toBe('first');
  });

  it('refuses a folder outside the repository', () => {
    const { work } = setup('bad');
    expect(() => execFileSync('bash', [SCRIPT, '../x', 'm'], { cwd: work, stdio: 'pipe' })).toThrow(
      /FOLDER must be a relative path inside the repository/,
    );
  });
});
