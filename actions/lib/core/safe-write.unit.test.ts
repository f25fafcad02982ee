import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnsafeFileError } from './safe-read.ts';
import { openForWriting, writeFileSafely } from './safe-write.ts';
import { closeSync, writeSync } from 'node:fs';

const work = mkdtempSync(join(tmpdir(), 'virtnet-safe-write-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const dir = join(work, 'run');
mkdirSync(dir);
const outside = join(work, 'outside');
mkdirSync(outside);
const target = join(outside, 'target');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafeFileError);
    return (e as Error).message;
  }
  throw new Error('written');
}

describe('writeFileSafely / openForWriting', () => {
  it('makes, replaces and appends to a regular file of its own', () => {
    const path = join(dir, 'plain');
    writeFileSafely(path, 'first, and longer\n');
    writeFileSafely(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    const fd = openForWriting(path, { append: true });
    writeSync(fd, 'third\n');
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('second\nthird\n');
  });

  it('refuses a symlink, a hard link, a FIFO, a device and a directory, and leaves what they lead to alone', () => {
    writeFileSync(target, 'KEEP');
    symlinkSync(target, join(dir, 'link'));
    expect(refusal(() => writeFileSafely(join(dir, 'link'), 'x'))).toBe(
      `${join(dir, 'link')} is a symbolic link: refusing to write it (only a regular file of its own is written)`,
    );
    symlinkSync(join(outside, 'made-through-link'), join(dir, 'dangling'));
    expect(refusal(() => writeFileSafely(join(dir, 'dangling'), 'x'))).toMatch(/is a symbolic link/);
    linkSync(target, join(dir, 'hard'));
    expect(refusal(() => writeFileSafely(join(dir, 'hard'), 'x'))).toMatch(
      /hard\b.* is a hard link \(one of 2 names of one file\)/,
    );
    expect(refusal(() => openForWriting(join(dir, 'hard'), { append: true }))).toMatch(/is a hard link/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(refusal(() => writeFileSafely(join(dir, 'fifo'), 'x'))).toMatch(/fifo is a FIFO \(named pipe\)/);
    symlinkSync('/dev/null', join(dir, 'null'));
    expect(refusal(() => writeFileSafely(join(dir, 'null'), 'x'))).toMatch(/is a symbolic link/);
    expect(refusal(() => writeFileSafely('/dev/null', 'x'))).toMatch(/\/dev\/null is a device/);
    mkdirSync(join(dir, 'sub'));
    expect(refusal(() => writeFileSafely(join(dir, 'sub'), 'x'))).toMatch(/is a directory/);
    expect(readFileSync(target, 'utf8')).toBe('KEEP');
    expect(lstatSync(join(outside, 'made-through-link'), { throwIfNoEntry: false })).toBeUndefined();
  });
});
