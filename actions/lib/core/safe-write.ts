// The one way to open a file for writing in a run or output directory (a run's manifest, results,
// logs and lock, report files, CSVs, the site). Such a directory may hold what an outsider put
// there (an artifact, a commit, a shared disk), and the tool often runs as root, so a plain
// open-for-writing could be turned against any file on the machine. Refused, before a byte is
// written or a file truncated:
// - a symlink (opened with O_NOFOLLOW, so one swapped in after the check is refused too);
// - a hard link, i.e. a file with more than one name (st_nlink > 1): writing it would write the
//   other name too, which may be anywhere on the same file system;
// - a FIFO, a device, a socket or a directory (O_NONBLOCK: a FIFO never holds the open up).
// The checks are made on the open file (fstat) and the file is truncated only after them, so there
// is no window between the check and the write. Errors are UnsafeFileError naming the path and why.

import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, type Stats, writeSync } from 'node:fs';
import { UnsafeFileError } from './safe-read.ts';

function what(stat: Stats): string | null {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  if (!stat.isFile()) return 'not a regular file';
  if (stat.nlink > 1) return `a hard link (one of ${stat.nlink} names of one file)`;
  return null;
}

function refuse(path: string, stat: Stats): never {
  throw new UnsafeFileError(
    `${path} is ${what(stat)}: refusing to write it (only a regular file of its own is written)`,
  );
}

export interface OpenForWritingOptions {
  /** Append to what is there (O_APPEND) instead of replacing it. */
  append?: boolean;
  /** The permission bits of a file made new. */
  mode?: number;
}

/**
 * Opens `path` for writing (made if missing), refusing anything but a regular file with a single
 * name (see the top of this file); without `append` the file is emptied first. Returns the fd.
 */
export function openForWriting(path: string, options: OpenForWritingOptions = {}): number {
  // Checked before opening: opening a device may do something by itself.
  let before: Stats | null = null;
  try {
    before = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (before !== null && what(before) !== null) refuse(path, before);
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY |
        constants.O_CREAT |
        constants.O_NOFOLLOW |
        constants.O_NONBLOCK |
        (options.append ? constants.O_APPEND : 0),
      options.mode ?? 0o644,
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new UnsafeFileError(`${path} became a symbolic link while it was being opened: refusing to write it`);
    if (code === 'ENXIO')
      throw new UnsafeFileError(`${path} became a FIFO (named pipe) while it was being opened: refusing to write it`);
    throw e;
  }
  try {
    const stat = fstatSync(fd);
    if (what(stat) !== null) refuse(path, stat);
    if (!options.append) ftruncateSync(fd, 0);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Writes every byte (writeSync may write less than asked, e.g. on a filling disk), or throws. */
export function writeAllSync(fd: number, content: string | Uint8Array): void {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  let offset = 0;
  while (offset < bytes.length) {
    const n = writeSync(fd, bytes, offset, bytes.length - offset);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    offset += n;
  }
}

/** Replaces the content of `path` (made if missing) through openForWriting. */
export function writeFileSafely(
  path: string,
  content: string | Uint8Array,
  options: Omit<OpenForWritingOptions, 'append'> = {},
): void {
  const fd = openForWriting(path, options);
  try {
    writeAllSync(fd, content);
  } finally {
    closeSync(fd);
  }
}
