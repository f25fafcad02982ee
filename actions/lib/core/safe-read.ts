// Reading files an outsider may have written (run directories from artifacts or commits, plan
// files from pull requests) without hanging, exhausting memory or leaking other files:
// - only regular files are read: a FIFO would block the reader forever, a device such as
//   /dev/zero never ends, a socket or directory is no document;
// - a symlink is followed only when it resolves inside the directory that holds it (the run
//   directory, the plans directory): a link to /etc/shadow or /dev/zero is refused by name,
//   before a byte of its target is read, so no error message can quote the target's content;
// - at most `maxBytes` are read, checked on the open file (it cannot grow past the limit between
//   the check and the read).
// The path is opened with O_NOFOLLOW | O_NONBLOCK after it was resolved, so a file swapped for a
// symlink or a FIFO between the check and the open is refused too, never followed or waited on.

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { dirname, relative, isAbsolute } from 'node:path';

export const MiB = 1024 * 1024;

export class UnsafeFileError extends Error {
  override name = 'UnsafeFileError';
}

export interface SafeReadOptions {
  /** The most bytes this kind of file may hold; a larger one is refused without being read. */
  maxBytes: number;
  /**
   * The directory a symlink must resolve into (after every link is followed). Defaults to the
   * directory that holds `path`.
   */
  within?: string;
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A size for messages: bytes below a MiB, else MiB with one decimal. */
function mib(bytes: number): string {
  return bytes < MiB ? `${bytes} bytes` : `${(bytes / MiB).toFixed(1)} MiB`;
}

/**
 * Reads a regular file as UTF-8, refusing anything else (see the top of this file). Errors are
 * UnsafeFileError naming the path and why; a missing file keeps Node's ENOENT error.
 */
export function readRegularFile(path: string, options: SafeReadOptions): string {
  return readRegularBytes(path, options).toString('utf8');
}

/** readRegularFile, or null when nothing is at the path (a dangling symlink is refused, not absent). */
export function readRegularFileIfExists(path: string, options: SafeReadOptions): string | null {
  try {
    lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return readRegularFile(path, options);
}

/** readRegularFile's bytes, for files that are copied as they are. */
export function readRegularBytes(path: string, options: SafeReadOptions): Buffer {
  const link = lstatSync(path);
  let target = path;
  if (link.isSymbolicLink()) {
    const within = realpathSync(options.within ?? dirname(path));
    let resolved: string;
    try {
      resolved = realpathSync(path);
    } catch {
      throw new UnsafeFileError(`${path} is a symlink that leads nowhere: refused`);
    }
    if (!isInside(within, resolved)) {
      throw new UnsafeFileError(
        `${path} is a symlink to ${resolved}, outside ${within}: refused (a symlink is followed only within the directory that holds it)`,
      );
    }
    target = resolved;
  }
  const before = lstatSync(target);
  if (!before.isFile()) throw new UnsafeFileError(`${path} is ${kindOf(before)}, not a regular file: refused`);
  let fd: number;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UnsafeFileError(`${path} became a symlink while it was being opened: refused`);
    throw e;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UnsafeFileError(`${path} is ${kindOf(stat)}, not a regular file: refused`);
    if (stat.size > options.maxBytes) {
      throw new UnsafeFileError(
        `${path} holds ${mib(stat.size)}, more than the ${mib(options.maxBytes)} this kind of file may hold: refused`,
      );
    }
    // Read to the end, whatever the size said: a results file appended to while it is read is
    // read whole (up to the limit), never cut at the size seen when it was opened.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(
        Math.max(64 * 1024, Math.min(stat.size - length, options.maxBytes - length) + 1),
      );
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      length += n;
      if (length > options.maxBytes)
        throw new UnsafeFileError(
          `${path} grew past the ${mib(options.maxBytes)} this kind of file may hold while it was read: refused`,
        );
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  } finally {
    closeSync(fd);
  }
}
