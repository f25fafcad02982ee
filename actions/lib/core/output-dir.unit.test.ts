import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileNamePart } from './file-names.ts';
import { dirUnder, OutputPathError, relativeSegments, writeUnder } from './output-dir.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-output-dir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('writeUnder', () => {
  it('writes files and the directories on their way, and only when the content changed', () => {
    const root = join(work, 'plain');
    expect(writeUnder(root, 'charts/a.svg', '<svg/>')).toBe(true);
    expect(writeUnder(root, 'charts/a.svg', '<svg/>')).toBe(false);
    expect(writeUnder(root, 'charts/a.svg', Buffer.from('<svg></svg>'))).toBe(true);
    expect(readFileSync(join(root, 'charts/a.svg'), 'utf8')).toBe('<svg></svg>');
    expect(dirUnder(root, 'runs/x')).toBe(join(root, 'runs/x'));
  });

  it('refuses paths that are not plain relative paths', () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './a', 'a/.', '', 'a\\..\\b', 'a\0b', 'charts/'])
      expect(() => relativeSegments(bad), JSON.stringify(bad)).toThrow(OutputPathError);
    expect(() => writeUnder(join(work, 'plain'), 'x/../../../TRAVERSED', 'no')).toThrow(/not a plain relative path/);
    expect(existsSync(join(work, 'TRAVERSED'))).toBe(false);
  });

  it('refuses a symbolically linked output directory, a link inside it, and a linked file', () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    const run = join(work, 'run');
    mkdirSync(run);
    symlinkSync(outside, join(run, 'report'));
    expect(() => writeUnder(join(run, 'report'), 'points.csv', 'x')).toThrow(
      /output directory .*report is a symbolic link \(to .*outside\): refusing to write through it/,
    );
    const site = join(work, 'site');
    mkdirSync(join(site, 'runs'), { recursive: true });
    symlinkSync(outside, join(site, 'runs', 'r1'));
    expect(() => writeUnder(site, 'runs/r1/index.html', 'x')).toThrow(/directory .*runs\/r1 is a symbolic link/);
    expect(() => dirUnder(site, 'runs/r1')).toThrow(/symbolic link/);
    writeFileSync(join(outside, 'target'), 'keep');
    symlinkSync(join(outside, 'target'), join(site, 'index.html'));
    expect(() => writeUnder(site, 'index.html', 'x')).toThrow(/file .*index.html is a symbolic link/);
    expect(readdirSync(outside)).toEqual(['target']);
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('keep');
  });

  it('refuses to write over a FIFO or a directory', () => {
    const root = join(work, 'special');
    mkdirSync(join(root, 'sub'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'fifo')]);
    expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
    expect(() => writeUnder(root, 'fifo', 'x')).toThrow(/not a regular file/);
    expect(() => writeUnder(root, 'sub', 'x')).toThrow(/not a regular file/);
    writeFileSync(join(root, 'file'), '');
    expect(() => writeUnder(root, 'file/x', 'x')).toThrow(/exists and is not a directory/);
  });
});

describe('fileNamePart', () => {
  it('keeps plain names, and turns anything else into a slug plus a hash that cannot leave its directory', () => {
    expect(fileNamePart('from-100')).toBe('from-100');
    expect(fileNamePart('native')).toBe('native');
    const traversal = fileNamePart('x/../../../../elsewhere/TRAVERSED');
    expect(traversal).toMatch(/^x-elsewhere-traversed--[0-9a-f]{16}$/);
    for (const hostile of [
      '..',
      '.',
      '',
      '/',
      'a/b',
      'a\\b',
      '<script>',
      'a--b',
      ' ',
      '\u0000',
      'x'.repeat(100),
      'é',
      'CON',
    ]) {
      const part = fileNamePart(hostile);
      expect(part, JSON.stringify(hostile)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]*$/);
      expect(part.length).toBeLessThanOrEqual(64);
    }
    // Distinct texts, distinct parts: a plain name can never equal a hashed one ("--" is only in the hashed form).
    expect(fileNamePart('a b')).not.toBe(fileNamePart('a-b'));
    expect(fileNamePart('a--b')).not.toBe('a--b');
    expect(fileNamePart('A')).not.toBe(fileNamePart('a'));
  });
});
