// Claims files on disk: a built-in name (<dir>/<name>-claims.json, e.g. env/plans/paper-claims.json)
// or a path, read through the schema. I/O at the edge of schema.ts; the library never reads env/
// by itself: the CLI, the actions and the scripts name the directory and pass the file down.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MiB, readRegularFile, UnsafeFileError } from '../../core/safe-read.ts';
import { ClaimsFormatError, parseClaims, type ClaimsFile } from './schema.ts';

const SUFFIX = '-claims.json';
/** The paper's claims file is a few kB. */
const CLAIMS_MAX_BYTES = 4 * MiB;

export function builtInClaimsNames(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(SUFFIX))
        .map((f) => f.slice(0, -SUFFIX.length))
        .sort()
    : [];
}

/** Loads `paper` (<dir>/paper-claims.json) or a claims file path; every problem is a ClaimsFormatError naming the file. */
export function loadClaims(nameOrPath: string, dir: string): ClaimsFile {
  const builtIn = /^[a-z0-9-]+$/.test(nameOrPath);
  const path = builtIn ? join(dir, `${nameOrPath}${SUFFIX}`) : nameOrPath;
  if (!existsSync(path)) {
    throw new ClaimsFormatError(
      builtIn
        ? `unknown claims ${JSON.stringify(nameOrPath)}: expected one of ${builtInClaimsNames(dir).join(', ') || '(none in ' + dir + ')'}, or the path of a claims file`
        : `claims file ${path} does not exist`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularFile(path, { maxBytes: CLAIMS_MAX_BYTES, within: dirname(path) }));
  } catch (e) {
    if (e instanceof UnsafeFileError) throw new ClaimsFormatError(`claims file ${e.message}`);
    throw new ClaimsFormatError(`claims file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseClaims(raw, path);
}
