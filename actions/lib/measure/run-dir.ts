// The run directory on disk: manifest.json (rewritten atomically) and results.jsonl (append-only,
// each record flushed to disk before the next measurement starts). This is the only module that
// writes them.

import { assertTrustedPaths } from '../core/trusted-path.ts';
import { closeSync, constants, existsSync, fstatSync, lstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MiB, readRegularFile } from '../core/safe-read.ts';
import { type Manifest, type MeasurementRecord, type ParsedResults, parseManifest, parseResults, RunFormatError } from './records.ts';

export const MANIFEST_FILE = 'manifest.json';
/** A manifest is a few kB (the plan, two hosts' facts, the sessions): 16 MiB is far beyond any real one. */
export const MANIFEST_MAX_BYTES = 16 * MiB;
/**
 * A paper run is about 1 MB of results; 200 MB files (100 000 records with their raw output) are
 * read. The limit stays below what one JavaScript string can hold (~512 MiB).
 */
export const RESULTS_MAX_BYTES = 500 * MiB;
export const RESULTS_FILE = 'results.jsonl';
export const LOGS_DIR = 'logs';
/** Held while a process measures into the run directory (PID inside). */
export const RUN_LOCK_FILE = 'run.lock';

export interface LoadedRun {
  dir: string;
  manifest: Manifest;
  results: ParsedResults;
}

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE));
}

/**
 * For a run directory that outlived the job that wrote it (a client runner keeps them between
 * jobs and appends each environment to the same run): refuses it unless nobody but us (or root)
 * could have written the directory, its manifest, its results or its logs, since a forged record
 * appended there would be reported as measured. Nothing in it is changed or removed.
 */
export function assertRunDirTrusted(dir: string): void {
  const paths = [dir, ...[MANIFEST_FILE, RESULTS_FILE, LOGS_DIR].map((f) => join(dir, f)).filter((p) => existsSync(p))];
  assertTrustedPaths(paths, 'run directory', `It is kept as it is; fix its owner and mode (chown, chmod go-w) if it is ours, or give the job another run directory.`);
}

/**
 * Reads and validates a run directory. Errors name the file (and line) that is wrong. Its files are
 * read safely (core/safe-read.ts): regular files only, symlinks only within the run directory,
 * at most MANIFEST_MAX_BYTES and RESULTS_MAX_BYTES.
 */
export function loadRun(dir: string): LoadedRun {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) throw new RunFormatError(`${dir}: no such directory`);
  if (!existsSync(manifestPath)) throw new RunFormatError(`${dir} is not a virtnet run: it has no ${MANIFEST_FILE}`);
  const manifest = parseManifest(readRegularFile(manifestPath, { maxBytes: MANIFEST_MAX_BYTES, within: dir }), manifestPath);
  const resultsPath = join(dir, RESULTS_FILE);
  const text = lexists(resultsPath) ? readRegularFile(resultsPath, { maxBytes: RESULTS_MAX_BYTES, within: dir }) : '';
  return { dir, manifest, results: parseResults(text, resultsPath) };
}

/** Whether anything (even a dangling symlink) is at the path. */
function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes via a temporary file and rename, so a crash never leaves a half-written manifest. */
export function writeManifest(dir: string, manifest: Manifest): void {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, `${JSON.stringify(manifest, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // The previous manifest.json is untouched; do not leave a half-written temporary beside it.
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw new ResultsWriteError(`could not write ${path} (${err.code ?? err.message}); the previous manifest is kept`);
  }
}

/** writeSync may write less than asked (a disk filling up): keep writing the rest, or throw. */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) {
    const n = writeSync(fd, bytes, offset, bytes.length - offset);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += n;
  }
}

export class ResultsWriteError extends Error {
  override name = 'ResultsWriteError';
}

/** Appends records to results.jsonl; each append is written whole and fsynced before it returns. */
export class ResultsAppender {
  private fd: number;
  readonly path: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, RESULTS_FILE);
    // What is there is checked before it is opened (a FIFO would block the open), and opened
    // without following a symlink or waiting on a FIFO swapped in since.
    const existing = lexists(this.path) ? readRegularFile(this.path, { maxBytes: RESULTS_MAX_BYTES, within: dir }) : '';
    try {
      this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENXIO') throw new ResultsWriteError(`${this.path} is ${code === 'ELOOP' ? 'a symlink' : 'a FIFO'}: records are appended only to a regular file`);
      throw e;
    }
    this.sealTruncatedTail(existing);
  }

  /**
   * A crash mid-write leaves a last line without its newline. It was never a whole measurement:
   * move its bytes aside (results.jsonl.partial-line-N, for forensics) and cut the file back to
   * its last whole line, so appends start clean and every line of the file stays valid JSON.
   */
  private sealTruncatedTail(text: string): void {
    if (text.length === 0 || text.endsWith('\n')) return;
    const cut = text.lastIndexOf('\n') + 1;
    const lineNo = text.slice(0, cut).split('\n').length;
    writeFileSync(`${this.path}.partial-line-${lineNo}`, text.slice(cut));
    ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, cut)));
    this.truncatedLine = lineNo;
  }

  /** The line number of a partial last line found (and set aside) on open, if any. */
  truncatedLine: number | null = null;

  append(record: MeasurementRecord): void {
    if (this.fd < 0) throw new ResultsWriteError(`${this.path} is closed`);
    const line = `${JSON.stringify(record)}\n`;
    const before = fstatSync(this.fd).size;
    try {
      writeAll(this.fd, line);
      fsyncSync(this.fd);
    } catch (e) {
      // A record written in part would be a broken line: cut the file back to the last whole record.
      try {
        ftruncateSync(this.fd, before);
        fsyncSync(this.fd);
      } catch {
        // If even that fails, the partial line is set aside on the next open (sealTruncatedTail).
      }
      const err = e as NodeJS.ErrnoException;
      throw new ResultsWriteError(
        `could not write to ${this.path} (${err.code ?? err.message}${err.code === 'ENOSPC' ? ': no space left on the device' : ''}): the run stops here; the ${this.lineCount()} records before this one are on disk, and the run can be resumed once the problem is fixed`,
      );
    }
  }

  private lineCount(): number {
    try {
      return readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0).length;
    } catch {
      return 0;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export function logsDir(runDir: string): string {
  const dir = join(runDir, LOGS_DIR);
  mkdirSync(dir, { recursive: true });
  return dir;
}
