// Whether a file or directory that outlives a job (the OSv image cache, a client runner's run
// directories) can be trusted by the next job that uses it. Anyone who could write it could
// poison a later run: swap the image a guest boots, or append forged measurements to a run that
// is being resumed. So before use, such a path must be
// - neither a symlink (it would lead anywhere) nor anything but a file or directory;
// - owned by the user we run as, or by root;
// - writable by its owner alone (no group or other write bit);
// and the directory that holds it must pass the same owner and write checks (whoever can write
// the parent can replace the entry). A sticky world-writable parent such as /tmp is accepted:
// there only an entry's owner can replace it.
// The decision is pure (trustProblem); lstat is at the edge (untrustedPathProblem).

import { lstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

export interface PathFacts {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  uid: number;
  /** The permission bits, st_mode & 0o7777. */
  mode: number;
}

export class UntrustedPathError extends Error {
  override name = 'UntrustedPathError';
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/** Why `path` (with these facts) cannot be trusted by a process running as `uid`, or null. */
export function trustProblem(
  path: string,
  facts: PathFacts,
  uid: number,
  role: 'entry' | 'parent' = 'entry',
): string | null {
  const what = role === 'parent' ? `${path} (the directory that holds it)` : path;
  if (role === 'entry' && facts.kind === 'symlink') return `${what} is a symlink`;
  if (role === 'entry' && facts.kind === 'other') return `${what} is neither a file nor a directory`;
  if (facts.uid !== uid && facts.uid !== 0)
    return `${what} is owned by uid ${facts.uid}, not by uid ${uid} (us) or root`;
  const writableByOthers = (facts.mode & 0o022) !== 0;
  const sticky = (facts.mode & 0o1000) !== 0;
  if (writableByOthers && !(role === 'parent' && sticky))
    return `${what} is writable by ${(facts.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${octal(facts.mode)})`;
  return null;
}

function factsOf(stat: Stats): PathFacts {
  const kind = stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other';
  return { kind, uid: stat.uid, mode: stat.mode & 0o7777 };
}

/** Why an existing path cannot be trusted (itself and its parent directory), or null. A missing path is a problem too. */
export function untrustedPathProblem(path: string, uid: number = process.getuid?.() ?? 0): string | null {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (e) {
    return `${path} cannot be examined: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const own = trustProblem(path, factsOf(stat), uid);
  if (own) return own;
  const parent = dirname(path);
  if (parent === path) return null;
  try {
    return trustProblem(parent, factsOf(lstatSync(parent)), uid, 'parent');
  } catch (e) {
    return `${parent} cannot be examined: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** Throws an UntrustedPathError naming the first path that cannot be trusted, with `advice` appended. */
export function assertTrustedPaths(paths: readonly string[], what: string, advice: string, uid?: number): void {
  for (const path of paths) {
    const problem = untrustedPathProblem(path, uid);
    if (problem)
      throw new UntrustedPathError(
        `${what}: ${problem}: refusing to use it (another user could have altered it). ${advice}`,
      );
  }
}
