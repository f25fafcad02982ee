// The content hash of a zip, on zips made by the real `git archive` from a small repository: the
// same files give the same hash whatever the compression (the bytes differ), the hash is the one
// computed from the git tree itself, and damaged or foreign archives are refused.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentManifest, contentSha256, filesOutside, readZipFiles } from './zip-content.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-zip-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const repo = join(work, 'repo');
const git = (...args: string[]): Buffer =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-C', repo, ...args], {
    maxBuffer: 64 << 20,
  });

mkdirSync(join(repo, 'src', 'deep'), { recursive: true });
writeFileSync(join(repo, 'README'), 'netperf stand-in\n');
writeFileSync(join(repo, 'configure'), '#!/bin/sh\necho configured\n', { mode: 0o755 });
writeFileSync(join(repo, 'src', 'deep', 'big.c'), 'int x;\n'.repeat(20000));
writeFileSync(join(repo, 'src', 'a-b.c'), 'int y;\n');
symlinkSync('deep/big.c', join(repo, 'src', 'link.c'));
git('init', '-q');
git('add', '-A');
git('commit', '-qm', 'files');
git('tag', 'v1');

function archive(...options: string[]): Buffer {
  return git('archive', '--format=zip', ...options, '--prefix=proj-v1/', 'v1');
}

/** The manifest computed from the git tree (not from any zip): mode, sha256 of the blob, path. */
function manifestFromTree(): string {
  const entries = git('ls-tree', '-r', '-z', 'v1').toString().split('\0').filter(Boolean);
  return contentManifest(
    entries.map((line) => {
      const [meta, path] = line.split('\t') as [string, string];
      const [mode, , blob] = meta.split(' ') as [string, string, string];
      return { path: `proj-v1/${path}`, mode, content: git('cat-file', 'blob', blob) };
    }),
  );
}

describe('zip content hash', () => {
  it('reads the files of a git archive zip with their modes, and hashes what the git tree holds', () => {
    const files = readZipFiles(archive(), 'v1.zip');
    expect(files.map((f) => `${f.mode} ${f.path}`).sort()).toEqual([
      '100644 proj-v1/README',
      '100644 proj-v1/src/a-b.c',
      '100644 proj-v1/src/deep/big.c',
      '100755 proj-v1/configure',
      '120000 proj-v1/src/link.c',
    ]);
    expect(files.find((f) => f.path.endsWith('link.c'))!.content.toString()).toBe('deep/big.c');
    expect(contentManifest(files)).toBe(manifestFromTree());
    expect(contentSha256(files)).toMatch(/^[0-9a-f]{64}$/);
    expect(filesOutside(files, 'proj-v1/')).toEqual([]);
    expect(filesOutside(files, 'other/')).toHaveLength(5);
  });

  it('gives the same hash for other compressions of the same files, whose bytes differ', () => {
    const zips = [archive(), archive('-0'), archive('-1')];
    expect(new Set(zips.map((z) => z.toString('base64'))).size).toBe(3);
    const hashes = zips.map((z, i) => contentSha256(readZipFiles(z, `zip ${i}`)));
    expect(new Set(hashes).size).toBe(1);
  });

  it('changes when one byte or one mode changes', () => {
    const files = readZipFiles(archive(), 'v1.zip');
    const base = contentSha256(files);
    const edited = files.map((f) =>
      f.path.endsWith('README') ? { ...f, content: Buffer.from('netperf stand-In\n') } : f,
    );
    const moded = files.map((f) => (f.path.endsWith('README') ? { ...f, mode: '100755' as const } : f));
    expect(contentSha256(edited)).not.toBe(base);
    expect(contentSha256(moded)).not.toBe(base);
  });

  it('refuses what is not a zip, and a damaged one, naming it', () => {
    expect(() =>
      readZipFiles(Buffer.from('not a zip at all, just some text that is long enough'), 'notes.txt'),
    ).toThrow('notes.txt: not a zip archive (no end-of-central-directory record)');
    const stored = archive('-0');
    const at = stored.indexOf('netperf stand-in');
    const damaged = Buffer.from(stored);
    damaged[at] = 'N'.charCodeAt(0);
    expect(() => readZipFiles(damaged, 'damaged.zip')).toThrow(
      'damaged.zip: proj-v1/README does not match its recorded size and CRC (damaged archive)',
    );
  });
});
