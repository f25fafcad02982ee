// The run directory on disk: manifest.json (rewritten atomically) and results.jsonl (append-only,
// each record flushed to disk before the next measurement starts). This is the only module that
// writes them.

import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Manifest, type MeasurementRecord, type ParsedResults, parseResults, RunFormatError, validateManifest } from './records.ts';

export const MANIFEST_FILE = 'manifest.json';
export const RESULTS_FILE = 'results.jsonl';
export const LOGS_DIR = 'logs';

export interface LoadedRun {
  dir: string;
  manifest: Manifest;
  results: ParsedResults;
}

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE));
}

/** Reads and validates a run directory. Errors name the file (and line) that is wrong. */
export function loadRun(dir: string): LoadedRun {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) throw new RunFormatError(`${dir}: no such directory`);
  if (!existsSync(manifestPath)) throw new RunFormatError(`${dir} is not a virtnet run: it has no ${MANIFEST_FILE}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new RunFormatError(`${manifestPath}: not valid JSON (${(e as Error).message})`);
  }
  const manifest = validateManifest(raw, manifestPath);
  const resultsPath = join(dir, RESULTS_FILE);
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
  return { dir, manifest, results: parseResults(text, resultsPath) };
}

/** Writes via a temporary file and rename, so a crash never leaves a half-written manifest. */
export function writeManifest(dir: string, manifest: Manifest): void {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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
    this.fd = openSync(this.path, 'a');
    this.sealTruncatedTail();
  }

  /**
   * A crash mid-write leaves a last line without its newline. It was never a whole measurement:
   * move its bytes aside (results.jsonl.partial-line-N, for forensics) and cut the file back to
   * its last whole line, so appends start clean and every line of the file stays valid JSON.
   */
  private sealTruncatedTail(): void {
    const text = readFileSync(this.path, 'utf8');
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
    const line = `${JSON.stringify(record)}\n`;
    try {
      writeSync(this.fd, line);
      fsyncSync(this.fd);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ResultsWriteError(
        `could not write to ${this.path} (${err.code ?? err.message}): the run stops here; every record before this one is on disk and the run can be resumed once there is room`,
      );
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
