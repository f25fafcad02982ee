// virtnet diff <A> <B> [--format text|markdown|json] [--only-changed] [--threshold PCT] [--alpha P]
//                      [--correction holm|none] [--fail-on-regression] [--repo DIR] [--out DIR] [--claims NAME|FILE]

import { judgedSide } from '../../actions/lib/analyse/claims/judge.ts';
import {
  alphaFrom,
  correctionFrom,
  DEFAULT_DIFF_OPTIONS,
  diffRuns,
  hasRegression,
  thresholdFrom,
} from '../../actions/lib/diff/diff.ts';
import { DIFF_FORMATS, type DiffFormat, formatDiff } from '../../actions/lib/diff/format.ts';
import { buildDiffFiles } from '../../actions/lib/site/standalone-diff.ts';
import { gitCli, resolveRunPair, RunSourceError } from '../../actions/lib/diff/run-source.ts';
import { writeReportFiles } from '../../actions/lib/report/report-files.ts';
import { asOptions, claimsOption, parseCommandArgs, UsageError, print, printError } from './common.ts';

/** Exit status when --fail-on-regression finds a regression (1 is an error, 2 a usage error). */
export const EXIT_REGRESSION = 3;

export async function commandDiff(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      format: { type: 'string' },
      'only-changed': { type: 'boolean' },
      threshold: { type: 'string' },
      alpha: { type: 'string' },
      correction: { type: 'string' },
      'fail-on-regression': { type: 'boolean' },
      repo: { type: 'string' },
      out: { type: 'string' },
      claims: { type: 'string' },
    },
    true,
  );
  if (positionals.length !== 2)
    throw new UsageError(
      `expected two runs, A (the baseline) and B, each a run directory, a git ref, previous or pr-base; got ${positionals.length}`,
    );
  const format = (values.format ?? 'text') as DiffFormat;
  if (!DIFF_FORMATS.includes(format))
    throw new UsageError(`--format: expected one of ${DIFF_FORMATS.join(', ')}, got ${JSON.stringify(values.format)}`);
  const options = asOptions(() => ({
    thresholdPercent:
      values.threshold === undefined
        ? DEFAULT_DIFF_OPTIONS.thresholdPercent
        : thresholdFrom('threshold', values.threshold),
    alpha: values.alpha === undefined ? DEFAULT_DIFF_OPTIONS.alpha : alphaFrom('alpha', values.alpha),
    correction:
      values.correction === undefined
        ? DEFAULT_DIFF_OPTIONS.correction
        : correctionFrom('correction', values.correction),
  }));

  const claims = claimsOption(values.claims);
  const [a, b] = await resolveRunPair(positionals[0]!, positionals[1]!, {
    git: gitCli(values.repo ?? process.cwd()),
    baseRef: process.env.GITHUB_BASE_REF || undefined,
  }).catch((e: unknown) => {
    if (e instanceof RunSourceError && e.wrongRepository)
      throw new Error(`${e.message} (run virtnet diff inside the repository, or pass --repo)`);
    throw e;
  });
  // Notes go to stderr so that stdout stays exactly the requested format.
  for (const note of [...a.notes, ...b.notes]) printError(`note: ${note}\n`);
  printError(`A: ${a.origin}\nB: ${b.origin}\n`);

  const diff = diffRuns(judgedSide(a, claims), judgedSide(b, claims), options);
  print(formatDiff(diff, format, { onlyChanged: values['only-changed'] === true }));
  if (values.out) {
    const files = await buildDiffFiles(diff);
    writeReportFiles(values.out, files);
    printError(`diff page and charts: ${files.length} files in ${values.out}\n`);
  }
  if (values['fail-on-regression'] && hasRegression(diff)) {
    printError(
      `virtnet diff: ${diff.summary.regressed} regressed point${diff.summary.regressed === 1 ? '' : 's'} (--fail-on-regression)\n`,
    );
    return EXIT_REGRESSION;
  }
  return 0;
}
