import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiB, readRegularFile, type SafeReadOptions, UnsafeFileError } from './safe-read.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-safe-read-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dir = join(work, 'run');
const outside = join(work, 'outside');
mkdirSync(dir);
mkdirSync(outside);
const secret = join(outside, 'secret');
writeFileSync(secret, 'root:$y$j9T$TopSecretHash:19000:0:99999:7:::\n');
writeFileSync(join(dir, 'plain.json'), '{"a": 1}');
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const limits = { maxBytes: MiB };

function refusal(path: string, options: SafeReadOptions = limits): string {
  try {
    readRegularFile(path, options);
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafeFileError);
    return (e as Error).message;
  }
  throw new Error(`${path} was read`);
}

describe('readRegularFile', () => {
  it('reads a regular file', () => {
    expect(readRegularFile(join(dir, 'plain.json'), limits)).toBe('{"a": 1}');
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    const started = performance.now();
    expect(refusal(fifo)).toBe(`${fifo} is a FIFO (named pipe), not a regular file: refused`);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuses a device and a directory', () => {
    expect(refusal('/dev/null', { maxBytes: MiB, within: '/dev' })).toBe(
      '/dev/null is a character device, not a regular file: refused',
    );
    mkdirSync(join(dir, 'sub'));
    expect(refusal(join(dir, 'sub'))).toMatch(/is a directory, not a regular file/);
  });

  it('refuses a symlink to a device outside the directory, before reading a byte of it', () => {
    const link = join(dir, 'zero');
    symlinkSync('/dev/zero', link);
    expect(refusal(link)).toBe(
      `${link} is a symlink to /dev/zero, outside ${dir}: refused (a symlink is followed only within the directory that holds it)`,
    );
  });

  it('refuses a symlink to a file outside the directory without quoting it', () => {
    const link = join(dir, 'shadow');
    symlinkSync(secret, link);
    const message = refusal(link);
    expect(message).toMatch(/is a symlink to .*outside/);
    expect(message).not.toContain('TopSecret');
    // Relative links that climb out are resolved first.
    const climbing = join(dir, 'climbing');
    symlinkSync('../outside/secret', climbing);
    expect(refusal(climbing)).toMatch(/outside/);
  });

  it('follows a symlink that stays within the directory, but never to a FIFO', () => {
    symlinkSync('plain.json', join(dir, 'alias.json'));
    expect(readRegularFile(join(dir, 'alias.json'), limits)).toBe('{"a": 1}');
    symlinkSync('fifo', join(dir, 'fifo-alias'));
    expect(refusal(join(dir, 'fifo-alias'))).toMatch(/fifo-alias is a FIFO/);
    symlinkSync('nowhere', join(dir, 'dangling'));
    expect(refusal(join(dir, 'dangling'))).toMatch(/a symlink that leads nowhere/);
  });

  it('checks symlinks against the directory it is given', () => {
    const nested = join(dir, 'nested');
    mkdirSync(nested);
    symlinkSync('../plain.json', join(nested, 'up.json'));
    expect(refusal(join(nested, 'up.json'))).toMatch(/outside/);
    expect(readRegularFile(join(nested, 'up.json'), { maxBytes: MiB, within: dir })).toBe('{"a": 1}');
  });

  it('refuses a file over the limit without reading it', () => {
    const big = join(dir, 'big');
    writeFileSync(big, '');
    truncateSync(big, 600 * MiB); // sparse: no disk used, no memory if it were read
    expect(refusal(big, { maxBytes: 500 * MiB })).toBe(
      `${big} holds 600.0 MiB, more than the 500.0 MiB this kind of file may hold: refused`,
    );
  });

  it('reads a file exactly at the limit', () => {
    const exact = join(dir, 'exact');
    writeFileSync(exact, 'x'.repeat(1000));
    expect(readRegularFile(exact, { maxBytes: 1000 })).toHaveLength(1000);
    expect(refusal(exact, { maxBytes: 999 })).toMatch(/holds 1000 bytes, more than the 999 bytes/);
  });
});
