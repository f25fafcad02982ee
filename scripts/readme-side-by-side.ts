#!/usr/bin/env node
// The README's "Beyond the paper" table: the side-by-side table of a committed run (every
// environment's start-up, round trip, throughput and CPU per gigabyte, with what the testbed could
// and could not show), taken from that run's own tables.md so the README says exactly what the
// run's report says. scripts/readme-side-by-side.unit.test.ts checks that the README's block is
// this script's output for the run its marker names.
// Usage: node scripts/readme-side-by-side.ts reports/runs/<runId>

import { join } from 'node:path';
import { MiB, readRegularFile } from '../actions/lib/core/safe-read.ts';

const HEADING = '### Every environment side by side';

/** The side-by-side section of a report's tables.md (without its heading), or an error naming the file. */
export function sideBySideSection(tablesMd: string, where: string): string {
  const start = tablesMd.indexOf(HEADING);
  if (start < 0)
    throw new Error(
      `${where}: no "${HEADING}" table (a report rendered before it existed: run virtnet report RUN --commit)`,
    );
  const afterHeading = tablesMd.indexOf('\n', start) + 1;
  const next = tablesMd.indexOf('\n### ', afterHeading);
  return tablesMd.slice(afterHeading, next < 0 ? undefined : next).trim();
}

/** The block for a committed run directory, with a link to its tables.md. */
export function readmeSideBySide(runDir: string, linkDir = runDir): string {
  const file = join(runDir, 'tables.md');
  const section = sideBySideSection(readRegularFile(file, { maxBytes: 16 * MiB }), file);
  return `${section}\n\nFrom [tables.md](${linkDir.replace(/\/+$/, '')}/tables.md) of that run.`;
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/readme-side-by-side.ts reports/runs/<runId>');
    process.exit(2);
  }
  console.log(readmeSideBySide(dir));
}
