// A lock file per testbed, so two runs never measure over the same link at once. The holder's
// PID is written inside; a lock whose holder is gone is taken over (and said so).

import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

export class LockError extends Error {
  override name = 'LockError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  path: string;
  /** Set when a stale lock of a dead holder was removed on the way in. */
  tookOverFrom: number | null;
  release(): void;
}

/** Takes the lock at `path` for this process, or throws LockError naming the live holder. */
export function acquireLock(path: string, what: string): Lock {
  mkdirSync(dirname(path), { recursive: true });
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        path,
        tookOverFrom,
        release: () => {
          try {
            if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder) && holder !== process.pid) {
        throw new LockError(`${what} is in use by another virtnet process (PID ${holder}, lock ${path}); wait for it to finish or stop it`);
      }
      rmSync(path, { force: true });
      tookOverFrom = Number.isInteger(holder) ? holder : null;
    }
  }
  throw new LockError(`could not take the lock ${path} for ${what}`);
}
