// diff-results: parse inputs, resolve both runs (directories or committed runs), diff them with the
// diff library, write the markdown to the job summary and the requested format to a file.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseDiffResultsInputs, runnerContext } from '../../lib/action/inputs.ts';
import { loadClaims } from '../../lib/analyse/claims/file.ts';
import { judgedSide } from '../../lib/analyse/claims/judge.ts';
import { diffRuns, hasRegression } from '../../lib/diff/diff.ts';
import { formatDiff } from '../../lib/diff/format.ts';
import { buildDiffFiles } from '../../lib/site/standalone-diff.ts';
import { gitCli, resolveRunPair, RunSourceError } from '../../lib/diff/run-source.ts';
import { writeReportFiles } from '../../lib/report/report-files.ts';

export async function run(io: ActionIO = actionsCore()): Promise<void> {
  try {
    const runner = runnerContext(io.env);
    const settings = parseDiffResultsInputs(io.input, runner);
    // A name that is a directory in the workspace is a run directory; anything else is a ref.
    const locate = (name: string) =>
      !isAbsolute(name) && existsSync(join(runner.workspace, name)) ? join(runner.workspace, name) : name;
    const [a, b] = await resolveRunPair(locate(settings.baseline), locate(settings.current), {
      git: gitCli(settings.repoDir),
      baseRef: io.env.GITHUB_BASE_REF || undefined,
    }).catch((e: unknown) => {
      if (e instanceof RunSourceError && e.wrongRepository)
        throw new Error(
          `${e.message} in ${settings.repoDir} (input repository: the checkout that holds the committed runs, with fetch-depth: 0)`,
        );
      throw e;
    });
    for (const note of [...a.notes, ...b.notes]) io.info(`note: ${note}`);
    io.info(`baseline: ${a.origin}\ncurrent:  ${b.origin}`);
    const claims = loadClaims(settings.claims.nameOrPath, settings.claims.dir);
    const diff = diffRuns(judgedSide(a, claims), judgedSide(b, claims), {
      thresholdPercent: settings.thresholdPercent,
      alpha: settings.alpha,
      correction: 'holm',
    });
    await io.appendSummary(formatDiff(diff, 'markdown'));
    const file = join(
      runner.temp,
      `virtnet-diff.${settings.format === 'markdown' ? 'md' : settings.format === 'json' ? 'json' : 'txt'}`,
    );
    writeFileSync(file, formatDiff(diff, settings.format));
    if (settings.pageDir) {
      const files = await buildDiffFiles(diff);
      writeReportFiles(settings.pageDir, files);
      io.info(`diff page: ${files.length} files in ${settings.pageDir}`);
    }
    const s = diff.summary;
    io.info(
      `${s.compared} points compared: ${s.improved} improved, ${s.regressed} regressed, ${s.unchanged} unchanged, ${s.undecided} undecided`,
    );
    io.setOutput('regressed', String(s.regressed));
    io.setOutput('improved', String(s.improved));
    io.setOutput('unchanged', String(s.unchanged));
    io.setOutput('undecided', String(s.undecided));
    io.setOutput('diff-file', file);
    if (settings.failOnRegression && hasRegression(diff))
      throw new Error(
        `${s.regressed} point${s.regressed === 1 ? '' : 's'} regressed beyond ${settings.thresholdPercent}% (fail-on-regression)`,
      );
  } catch (error) {
    io.setFailed((error as Error).message);
  }
}
