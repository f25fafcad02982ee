// The runner pairs: which pairs of self-hosted runners measure, listed in one file
// (.github/runner-pairs.json), each with its name (its runners are labelled virtnet-server-<name>
// and virtnet-client-<name>) and its server's address on the pair's own cable. The workflow's plan
// job reads the file through scripts/runner-pairs.ts and turns it into the measure matrix; the
// name is what `virtnet run --pair` and run-sweep's runner-pair input record as manifest.runnerPair.
// Pure: the file's text in, the pairs (or an error naming the file, the field and the value) out.

import { z } from 'zod';
import { InputError, quoted } from '../core/input.ts';
import { IPV4_ADDRESS, list, parseJson, parseOrThrow, strict, text } from '../core/schema.ts';

/**
 * A pair's name: it becomes part of runner labels, a concurrency group, the run key and artifact
 * names, so it is kept to what all of those accept: letters, digits, '-' and '_', at most 40.
 */
export const PAIR_NAME = {
  re: /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/,
  expected: "a pair name: 1-40 letters, digits, '-' or '_', starting with a letter or digit",
};

/** The most pairs one file lists: each is a matrix entry and a caller of two nested workflows. */
export const MAX_PAIRS = 32;

export const runnerPairSchema = strict({
  name: text(
    { max: 40, pattern: PAIR_NAME },
    "The pair's name: its runners carry the labels virtnet-server-<name> and virtnet-client-<name>, and its runs record it as runnerPair.",
  ),
  serverAddress: text(
    { max: 15, pattern: IPV4_ADDRESS },
    "The server's IPv4 address on this pair's own cable (the client reaches the environments there).",
  ),
  description: text({ max: 200, empty: true }, 'Free text for people: which machines these are.').optional(),
});

export const runnerPairsSchema = strict({
  $schema: text({ max: 1000 }, 'The JSON Schema of this file, for editors (./runner-pairs.schema.json).').optional(),
  pairs: list(
    runnerPairSchema,
    { min: 1, max: MAX_PAIRS },
    'The runner pairs; each measures every requested environment, one at a time, into a run of its own.',
  ),
}).superRefine((file, ctx) => {
  // GitHub compares concurrency group names and runner labels without regard to case: "N3530" and
  // "n3530" would share one group and one set of runners, so names are unique in lower case.
  const seen = new Map<string, string>();
  file.pairs.forEach((pair, i) => {
    const first = seen.get(pair.name.toLowerCase());
    if (first !== undefined) {
      const twice =
        first === pair.name
          ? 'is listed twice'
          : `differs from ${quoted(first)} only in case, and GitHub's runner labels and concurrency groups ignore case`;
      ctx.addIssue({
        code: 'custom',
        path: ['pairs', i, 'name'],
        message: `${quoted(pair.name)} ${twice}: each pair needs a name of its own`,
        input: pair.name,
      });
    }
    seen.set(pair.name.toLowerCase(), first ?? pair.name);
  });
});

export type RunnerPair = z.output<typeof runnerPairSchema>;

export class RunnerPairsError extends Error {
  override name = 'RunnerPairsError';
}

/** The pairs of the file's text; `file` names the file in every error. */
export function parseRunnerPairs(textOfFile: string, file: string): RunnerPair[] {
  const raw = parseJson(textOfFile, (reason) => new RunnerPairsError(`${file} is not valid JSON: ${reason}`));
  return parseOrThrow(runnerPairsSchema, raw, file, (message) => new RunnerPairsError(message)).pairs;
}

/** A pair name given on its own (`virtnet run --pair`, run-sweep's runner-pair input). */
export function pairNameFrom(field: string, value: string): string {
  if (!PAIR_NAME.re.test(value)) throw new InputError(field, `expected ${PAIR_NAME.expected}, got ${quoted(value)}`);
  return value;
}

/** The runner labels of a pair, as runs-on lists them. */
export function pairLabels(name: string): { server: string[]; client: string[] } {
  return { server: ['self-hosted', `virtnet-server-${name}`], client: ['self-hosted', `virtnet-client-${name}`] };
}

/** The measure matrix's entries: one per pair, with what its legs need (GitHub matrix include). */
export function pairMatrix(pairs: readonly RunnerPair[]): { name: string; 'server-address': string }[] {
  return pairs.map((p) => ({ name: p.name, 'server-address': p.serverAddress }));
}
