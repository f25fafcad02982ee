import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertTrustedPaths, trustProblem, untrustedPathProblem } from './trusted-path.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-trust-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('trustProblem (pure)', () => {
  const me = 1000;
  it('accepts entries owned by us or root and writable by their owner alone', () => {
    expect(trustProblem('/c/img', { kind: 'file', uid: me, mode: 0o644 }, me)).toBeNull();
    expect(trustProblem('/c/img', { kind: 'file', uid: 0, mode: 0o600 }, me)).toBeNull();
    expect(trustProblem('/c', { kind: 'directory', uid: me, mode: 0o755 }, me)).toBeNull();
  });
  it('refuses another owner, group or world write, a symlink, anything else', () => {
    expect(trustProblem('/c/img', { kind: 'file', uid: 1001, mode: 0o644 }, me)).toBe(
      '/c/img is owned by uid 1001, not by uid 1000 (us) or root',
    );
    expect(trustProblem('/c/img', { kind: 'file', uid: me, mode: 0o664 }, me)).toBe(
      '/c/img is writable by its group (mode 0664)',
    );
    expect(trustProblem('/c/img', { kind: 'file', uid: me, mode: 0o646 }, me)).toBe(
      '/c/img is writable by every user (mode 0646)',
    );
    expect(trustProblem('/c/img', { kind: 'symlink', uid: me, mode: 0o777 }, me)).toBe('/c/img is a symlink');
    expect(trustProblem('/c/fifo', { kind: 'other', uid: me, mode: 0o600 }, me)).toBe(
      '/c/fifo is neither a file nor a directory',
    );
  });
  it('accepts a sticky world-writable parent (only an entry’s owner can replace it there) but not a sticky entry', () => {
    expect(trustProblem('/tmp', { kind: 'directory', uid: 0, mode: 0o1777 }, me, 'parent')).toBeNull();
    expect(trustProblem('/tmp/x', { kind: 'directory', uid: me, mode: 0o1777 }, me)).toBe(
      '/tmp/x is writable by every user (mode 01777)',
    );
    expect(trustProblem('/srv', { kind: 'directory', uid: 0, mode: 0o777 }, me, 'parent')).toBe(
      '/srv (the directory that holds it) is writable by every user (mode 0777)',
    );
  });
});

describe('untrustedPathProblem on real files', () => {
  it('checks the entry and the directory that holds it', () => {
    const dir = join(work, 'cache');
    mkdirSync(dir, { mode: 0o755 });
    const file = join(dir, 'image');
    writeFileSync(file, 'x', { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(untrustedPathProblem(file)).toBeNull();
    chmodSync(dir, 0o777);
    expect(untrustedPathProblem(file)).toBe(
      `${dir} (the directory that holds it) is writable by every user (mode 0777)`,
    );
    chmodSync(dir, 0o755);
    chmodSync(file, 0o620);
    expect(untrustedPathProblem(file)).toBe(`${file} is writable by its group (mode 0620)`);
    chmodSync(file, 0o644);
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect(untrustedPathProblem(link)).toBe(`${link} is a symlink`);
    expect(untrustedPathProblem(join(dir, 'missing'))).toBe(`${join(dir, 'missing')} cannot be examined: ENOENT`);
    expect(() => assertTrustedPaths([dir, link], 'OSv image cache', 'Delete it.')).toThrow(
      `OSv image cache: ${link} is a symlink: refusing to use it (another user could have altered it). Delete it.`,
    );
  });
});
