// Reading a run directory an outsider may have made (issue 14, item 3): FIFOs, devices, symlinks
// out of the run, oversize files, all refused by name within moments; big honest files still read.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnsafeFileError } from '../core/safe-read.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import {
  assertRunDirTrusted,
  loadRun,
  MANIFEST_FILE,
  RESULTS_FILE,
  ResultsAppender,
  ResultsWriteError,
} from './run-dir.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-run-dir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const { plan } = loadPlan('quick', new URL('../../../env/plans', import.meta.url).pathname);
const synthetic = syntheticRun({ plan, environments: ['native'], replicates: 1, seed: 5 });
const lines = synthetic.records.map((r) => `${JSON.stringify(r)}\n`).join('');
const secret = join(work, 'secret');
writeFileSync(secret, '{"formatVersion": "TOP-SECRET-CONTENT"}\n');

/** A valid run directory; `prepare` then replaces one of its files. */
function runDir(name: string, prepare?: (dir: string) => void): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(synthetic.manifest));
  writeFileSync(join(dir, RESULTS_FILE), lines);
  prepare?.(dir);
  return dir;
}

function refusal(dir: string): string {
  const started = performance.now();
  try {
    loadRun(dir);
  } catch (e) {
    expect(performance.now() - started, 'refused, but only after a long wait').toBeLessThan(5000);
    expect(e).toBeInstanceOf(UnsafeFileError);
    return (e as Error).message;
  }
  throw new Error(`${dir} was read`);
}

describe('loadRun reads only what a run directory should hold', () => {
  it('reads a valid run', () => {
    expect(loadRun(runDir('valid')).results.records).toHaveLength(synthetic.records.length);
  });

  it('refuses results.jsonl as a FIFO instead of hanging', () => {
    const dir = runDir('fifo', (d) => {
      rmSync(join(d, RESULTS_FILE));
      execFileSync('mkfifo', [join(d, RESULTS_FILE)]);
    });
    expect(refusal(dir)).toBe(`${join(dir, RESULTS_FILE)} is a FIFO (named pipe), not a regular file: refused`);
  });

  it('refuses results.jsonl as a symlink to /dev/zero instead of reading without end', () => {
    const dir = runDir('zero', (d) => {
      rmSync(join(d, RESULTS_FILE));
      symlinkSync('/dev/zero', join(d, RESULTS_FILE));
    });
    expect(refusal(dir)).toMatch(/results\.jsonl is a symlink to \/dev\/zero, outside .*: refused/);
  });

  it('refuses a manifest that is a symlink out of the run, without quoting its target', () => {
    const dir = runDir('shadow', (d) => {
      rmSync(join(d, MANIFEST_FILE));
      symlinkSync(secret, join(d, MANIFEST_FILE));
    });
    const message = refusal(dir);
    expect(message).toMatch(/manifest\.json is a symlink to .*secret, outside/);
    expect(message).not.toContain('TOP-SECRET');
  });

  it('follows a symlink that stays within the run', () => {
    const dir = runDir('inner-link', (d) => {
      writeFileSync(join(d, 'results-copy.jsonl'), lines);
      rmSync(join(d, RESULTS_FILE));
      symlinkSync('results-copy.jsonl', join(d, RESULTS_FILE));
    });
    expect(loadRun(dir).results.records).toHaveLength(synthetic.records.length);
  });

  it('refuses results over 500 MiB without reading them', () => {
    const dir = runDir('oversize', (d) => truncateSync(join(d, RESULTS_FILE), 600 * 1024 * 1024));
    expect(refusal(dir)).toBe(
      `${join(dir, RESULTS_FILE)} holds 600.0 MiB, more than the 500.0 MiB this kind of file may hold: refused`,
    );
  });

  it('refuses a manifest over 16 MiB', () => {
    const dir = runDir('big-manifest', (d) => truncateSync(join(d, MANIFEST_FILE), 17 * 1024 * 1024));
    expect(refusal(dir)).toMatch(/manifest\.json holds 17\.0 MiB, more than the 16\.0 MiB/);
  });

  it('still reads a results file of 200 MB (records carrying 50 MB of output each)', () => {
    const record = synthetic.records[0]!;
    const output = 'y'.repeat(50_500_000);
    const big = Array.from(
      { length: 4 },
      (_, i) =>
        `${JSON.stringify({ ...record, replicate: i + 1, stdout: '@' }).replace('"stdout":"@"', `"stdout":"${output}"`)}\n`,
    ).join('');
    expect(big.length).toBeGreaterThan(200_000_000);
    const dir = runDir('big', (d) => writeFileSync(join(d, RESULTS_FILE), big));
    const loaded = loadRun(dir);
    expect(loaded.results.records).toHaveLength(4);
    expect(loaded.results.records[3]!.stdout).toHaveLength(50_500_000);
  });
});

describe('ResultsAppender', () => {
  it('refuses to append to a FIFO instead of blocking', () => {
    const dir = join(work, 'append-fifo');
    mkdirSync(dir);
    execFileSync('mkfifo', [join(dir, RESULTS_FILE)]);
    expect(() => new ResultsAppender(dir)).toThrow(UnsafeFileError);
  });

  it('refuses to append through a symlink', () => {
    const dir = join(work, 'append-link');
    mkdirSync(dir);
    writeFileSync(join(dir, 'elsewhere.jsonl'), '');
    symlinkSync('elsewhere.jsonl', join(dir, RESULTS_FILE));
    expect(() => new ResultsAppender(dir)).toThrow(ResultsWriteError);
    expect(() => new ResultsAppender(dir)).toThrow(
      `${join(dir, RESULTS_FILE)} is a symbolic link: refusing to write it`,
    );
  });
});

describe('assertRunDirTrusted: a run directory kept between jobs is appended to only if nobody else could have written it', () => {
  it('accepts our own run directory and refuses one whose results others can write, changing nothing', () => {
    const dir = runDir('kept-between-jobs');
    chmodSync(dir, 0o755);
    expect(() => assertRunDirTrusted(dir)).not.toThrow();
    chmodSync(join(dir, RESULTS_FILE), 0o666);
    expect(() => assertRunDirTrusted(dir)).toThrow(
      `run directory: ${join(dir, RESULTS_FILE)} is writable by every user (mode 0666): refusing to use it`,
    );
    chmodSync(join(dir, RESULTS_FILE), 0o644);
    chmodSync(dir, 0o775);
    expect(() => assertRunDirTrusted(dir)).toThrow(`run directory: ${dir} is writable by its group (mode 0775)`);
    chmodSync(dir, 0o755);
    expect(loadRun(dir).results.records).toHaveLength(synthetic.records.length);
  });
});
