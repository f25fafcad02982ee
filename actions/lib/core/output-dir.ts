// Writing into an output directory (a run's report/, a site, reports/runs/<id>/, a diff's --out)
// without ever writing outside it: paths are relative and made of plain segments, no directory
// on the way (the output directory included) may be a symbolic link, and the file itself is opened
// by core/safe-write.ts (no symlink, no hard link, no FIFO or device). Outside text never names a
// path here unchecked; this is the check that holds even if it did.

import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readRegularBytes } from './safe-read.ts';
import { writeFileSafely } from './safe-write.ts';

export class OutputPathError extends Error {
  override name = 'OutputPathError';
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The segments of a path relative to an output directory; refuses absolute paths, '..', '.', empty segments, backslashes and NUL. */
export function relativeSegments(rel: string): string[] {
  const segments = rel.split('/');
  if (rel === '' || segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
    throw new OutputPathError(
      `${JSON.stringify(rel)} is not a plain relative path (segments of letters, not '', '.', '..', '\\' or NUL): refusing to write it`,
    );
  }
  return segments;
}

function refuseLink(path: string, st: Stats, what: string): void {
  if (st.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(path);
    } catch {
      // the message is the same without it
    }
    throw new OutputPathError(`${what} ${path} is a symbolic link (to ${target}): refusing to write through it`);
  }
}

/** Makes a directory unless it exists as a real directory; refuses a symbolic link or anything else. */
function realDirectory(path: string, what: string, recursive: boolean): void {
  let st = lstatOrNull(path);
  if (st === null) {
    try {
      mkdirSync(path, { recursive });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      st = lstatSync(path);
    }
  }
  refuseLink(path, st, what);
  if (!st.isDirectory()) throw new OutputPathError(`${what} ${path} exists and is not a directory`);
}

/**
 * The directory root/rel, made if missing, checked all the way down: root itself (its parents are
 * the caller's choice) and every segment must be a real directory, never a symbolic link.
 */
export function dirUnder(root: string, rel?: string): string {
  realDirectory(root, 'output directory', true);
  let dir = root;
  if (rel !== undefined) {
    for (const segment of relativeSegments(rel)) {
      dir = join(dir, segment);
      realDirectory(dir, 'directory', false);
    }
  }
  return dir;
}

/** Writes root/rel unless it already holds exactly these bytes; returns whether it wrote. */
export function writeUnder(root: string, rel: string, content: string | Buffer): boolean {
  const segments = relativeSegments(rel);
  const dir = segments.length > 1 ? dirUnder(root, segments.slice(0, -1).join('/')) : dirUnder(root);
  const path = join(dir, segments.at(-1)!);
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const st = lstatOrNull(path);
  if (st !== null) {
    refuseLink(path, st, 'file');
    if (!st.isFile()) throw new OutputPathError(`${path} exists and is not a regular file: refusing to write it`);
    if (st.size === bytes.length && readRegularBytes(path, { maxBytes: bytes.length }).equals(bytes)) return false;
  }
  writeFileSafely(path, bytes);
  return true;
}
