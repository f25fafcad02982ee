// The plan job's reader of the runner pairs (.github/runner-pairs.json, or the file given): checks
// the file against its schema (actions/lib/measure/runner-pairs.ts) and writes the measure matrix
// to $GITHUB_OUTPUT (`matrix`: one entry per pair; `names`: the names, comma-separated), or prints
// it without GitHub. A bad file stops the workflow with an error naming the file, the field and the value.
//
//   node scripts/runner-pairs.ts [FILE]

import { appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MiB, readRegularFile } from '../actions/lib/core/safe-read.ts';
import { pairMatrix, parseRunnerPairs, RunnerPairsError } from '../actions/lib/measure/runner-pairs.ts';

export const RUNNER_PAIRS_FILE = '.github/runner-pairs.json';
const REPO = join(import.meta.dirname, '..');

/** The GITHUB_OUTPUT lines for the pairs in the file. */
export function runnerPairsOutputs(path: string): string {
  const shown = relative(REPO, path).startsWith('..') ? path : relative(REPO, path);
  const pairs = parseRunnerPairs(readRegularFile(path, { maxBytes: 1 * MiB }), shown);
  return `matrix=${JSON.stringify(pairMatrix(pairs))}\nnames=${pairs.map((p) => p.name).join(',')}\n`;
}

if (import.meta.main) {
  try {
    const lines = runnerPairsOutputs(process.argv[2] ?? join(REPO, RUNNER_PAIRS_FILE));
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, lines);
    process.stdout.write(lines);
  } catch (e) {
    const message = e instanceof RunnerPairsError ? e.message : `${(e as Error).message}`;
    console.log(`::error::${message.replace(/\n/g, '%0A')}`);
    process.exit(1);
  }
}
