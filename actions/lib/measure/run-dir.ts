// The run directory on disk: manifest.json (rewritten atomically) and results.jsonl (append-only,
// each record flushed to disk before the next measurement starts). This is the only module that
// writes them.

import { assertTrustedPaths } from '../core/trusted-path.ts';
import {
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { dirUnder } from '../core/output-dir.ts';
import { MiB, readRegularFile, UnsafeFileError } from '../core/safe-read.ts';
import { openForWriting, writeAllSync, writeFileSafely } from '../core/safe-write.ts';
import {
  type Manifest,
  type ParsedResults,
  type ResultLine,
  parseManifest,
  parseResults,
  RunFormatError,
} from './records.ts';

export const MANIFEST_FILE = 'manifest.json';
/** A manifest is a few kB (the plan, two hosts' facts, the sessions): 16 MiB is far beyond any real one. */
export const MANIFEST_MAX_BYTES = 16 * MiB;
/**
 * A paper run is about 1 MB of results; 200 MB files (100 000 records with their raw output) are
 * read. The limit stays below what one JavaScript string can hold (~512 MiB).
 */
export const RESULTS_MAX_BYTES = 500 * MiB;
export const RESULTS_FILE = 'results.jsonl';
/** The most bytes each of a run's data files may hold, by name: what copies of a run read them with. */
export const RUN_FILE_MAX_BYTES: Readonly<Record<string, number>> = {
  [MANIFEST_FILE]: MANIFEST_MAX_BYTES,
  [RESULTS_FILE]: RESULTS_MAX_BYTES,
};
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
  assertTrustedPaths(
    paths,
    'run directory',
    `It is kept as it is; fix its owner and mode (chown, chmod go-w) if it is ours, or give the job another run directory.`,
  );
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
  const manifest = parseManifest(
    readRegularFile(manifestPath, { maxBytes: MANIFEST_MAX_BYTES, within: dir }),
    manifestPath,
  );
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
    const fd = openForWriting(tmp);
    try {
      writeAllSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // The previous manifest.json is untouched; do not leave a half-written temporary beside it.
    rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw new ResultsWriteError(
      `could not write ${path} (${err instanceof UnsafeFileError ? err.message : (err.code ?? err.message)}); the previous manifest is kept`,
    );
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
    // What is there is checked before it is opened (a FIFO would block the open), and opened the
    // one safe way (core/safe-write.ts: no symlink, hard link, FIFO or device, even one swapped in).
    const existing = lexists(this.path) ? readRegularFile(this.path, { maxBytes: RESULTS_MAX_BYTES, within: dir }) : '';
    try {
      this.fd = openForWriting(this.path, { append: true });
    } catch (e) {
      if (e instanceof UnsafeFileError) throw new ResultsWriteError(e.message);
      throw e;
    }
    try {
      this.sealTruncatedTail(existing);
    } catch (e) {
      this.close();
      throw e;
    }
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
    writeFileSafely(`${this.path}.partial-line-${lineNo}`, text.slice(cut));
    ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, cut)));
    this.truncatedLine = lineNo;
  }

  /** The line number of a partial last line found (and set aside) on open, if any. */
  truncatedLine: number | null = null;

  append(record: ResultLine): void {
    if (this.fd < 0) throw new ResultsWriteError(`${this.path} is closed`);
    const line = `${JSON.stringify(record)}\n`;
    const before = fstatSync(this.fd).size;
    try {
      writeAllSync(this.fd, line);
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
        `could not write to ${this.path} (${err.code ?? err.message}${err.code === 'ENOSPC' ? ': no space left on the device' : ''}): the run stops here; ${this.onDisk()}, and the run can be resumed once the problem is fixed`,
      );
    }
  }

  /** What is on disk: measurements, and round-trip probes (lines of their own kind). */
  private onDisk(): string {
    try {
      const lines = readRegularFile(this.path, { maxBytes: RESULTS_MAX_BYTES })
        .split('\n')
        .filter((l) => l.length > 0);
      const probes = lines.filter((l) => {
        try {
          return (JSON.parse(l) as { kind?: unknown }).kind === 'rtt-probe';
        } catch {
          return false;
        }
      }).length;
      return `the ${lines.length - probes} records${probes > 0 ? ` (and ${probes} round-trip probes)` : ''} before this one are on disk`;
    } catch {
      return 'the records before this one are on disk';
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The run's logs/ (made if missing): a real directory, never a symlink to elsewhere (core/output-dir.ts). */
export function logsDir(runDir: string): string {
  return dirUnder(runDir, LOGS_DIR);
}
