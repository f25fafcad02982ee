// A lock file per testbed (and per run directory), so two runs never measure over the same link or
// append to the same results at once. The holder's PID and process start time are written inside;
// a lock whose holder is gone is taken over (and said so). A run directory's lock lives in a
// directory an outsider may have filled, so the lock file is read and its temporary file written
// only the safe ways (safe-read.ts, safe-write.ts): a FIFO, a device or a link there is refused,
// never waited on, read without end or written through.

import { closeSync, linkSync, mkdirSync, rmSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, ownIdentity } from './liveness.ts';
import { readRegularFile, UnsafeFileError } from './safe-read.ts';
import { openForWriting, writeAllSync } from './safe-write.ts';

/** A lock holds a PID and a start time: a few dozen bytes. */
const LOCK_MAX_BYTES = 4096;

export class LockError extends Error {
  override name = 'LockError';
}

interface Holder {
  pid: number;
  /** Guards against a reused PID: a lock is live only if this very process still runs. */
  startTicks: string | null;
  /** The file as read, to tell whether it changed hands since. */
  raw: string;
}

function readHolder(path: string): Holder | null {
  let text: string;
  try {
    text = readRegularFile(path, { maxBytes: LOCK_MAX_BYTES });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof UnsafeFileError)
      throw new LockError(
        `lock ${e.message}; a lock is a small regular file this tool writes: remove it if nothing else is using the directory`,
      );
    throw e;
  }
  const [pid, startTicks] = text.trim().split(/\s+/);
  return { pid: Number(pid), startTicks: startTicks ?? null, raw: text };
}

/** The liveness rule of liveness.ts: a live process, and the same one if the lock recorded its start time. */
function holderAlive(holder: Holder): boolean {
  return isAlive(holder.pid, holder.startTicks);
}

/**
 * Creates `path` holding our PID, atomically: the content is written to a private file first and
 * hard-linked into place, so nobody ever reads a half-written lock. Returns false if it exists.
 */
function createLockFile(path: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openForWriting(tmp);
  } catch (e) {
    if (e instanceof UnsafeFileError) throw new LockError(`lock's temporary file ${e.message}`);
    throw e;
  }
  try {
    const own = ownIdentity();
    writeAllSync(fd, `${own.pid} ${own.startTicks}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface Lock {
  path: string;
  /** Set when a stale lock of a dead holder was removed on the way in. */
  tookOverFrom: number | null;
  release(): void;
}

/**
 * Removes the stale lock at `path` if it still names `stale`. Takeovers are serialised by a second
 * lock file, so two processes that both found the same dead holder cannot both remove a lock and
 * one of them remove the fresh lock the other just made.
 */
function removeStaleLock(path: string, stale: Holder): void {
  const guard = `${path}.takeover`;
  if (!createLockFile(guard)) {
    const guardHolder = readHolder(guard);
    // A takeover takes microseconds; a guard left by a dead process is removed so we do not wait forever.
    if (guardHolder && !holderAlive(guardHolder)) rmSync(guard, { force: true });
    return;
  }
  try {
    const now = readHolder(path);
    if (now && now.raw === stale.raw) rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Takes the lock at `path` for this process, or throws LockError naming the live holder. */
export function acquireLock(path: string, what: string): Lock {
  mkdirSync(dirname(path), { recursive: true });
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createLockFile(path)) {
      const mine = readHolder(path);
      return {
        path,
        tookOverFrom,
        release: () => {
          const holder = readHolder(path);
          if (holder && mine && holder.raw === mine.raw) rmSync(path, { force: true });
        },
      };
    }
    const holder = readHolder(path);
    if (holder === null) continue; // released between our attempt and the read: try again
    if (holderAlive(holder)) {
      const who = holder.pid === process.pid ? 'this very process' : `another virtnet process (PID ${holder.pid})`;
      throw new LockError(
        `${what} is in use by ${who}; lock ${path}. Wait for it to finish or stop it (a lock of a process that is gone is taken over automatically)`,
      );
    }
    removeStaleLock(path, holder);
    tookOverFrom = Number.isInteger(holder.pid) && holder.pid > 0 ? holder.pid : null;
  }
  throw new LockError(`could not take the lock ${path} for ${what}: it kept changing hands`);
}
