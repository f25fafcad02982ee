// diff-results: parse inputs, resolve both runs (directories or committed runs), diff them with the
// diff library, write the markdown to the job summary and the requested format to a file.

import * as core from '@actions/core';
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseDiffResultsInputs, runnerContext } from '../../lib/action/inputs.ts';
import { judgedSide } from '../../lib/analyse/claims.ts';
import { diffRuns, hasRegression } from '../../lib/diff/diff.ts';
import { formatDiff } from '../../lib/diff/format.ts';
import { buildDiffFiles } from '../../lib/site/standalone-diff.ts';
import { gitCli, resolveRunPair } from '../../lib/diff/run-source.ts';
import { writeReportFiles } from '../../lib/site/build.ts';

export async function run(): Promise<void> {
  try {
    const runner = runnerContext(process.env);
    const settings = parseDiffResultsInputs((name) => core.getInput(name), runner);
    // A name that is a directory in the workspace is a run directory; anything else is a ref.
    const locate = (name: string) => (!isAbsolute(name) && existsSync(join(runner.workspace, name)) ? join(runner.workspace, name) : name);
    const [a, b] = await resolveRunPair(locate(settings.baseline), locate(settings.current), { git: gitCli(settings.repoDir), baseRef: process.env.GITHUB_BASE_REF || undefined });
    for (const note of [...a.notes, ...b.notes]) core.info(`note: ${note}`);
    core.info(`baseline: ${a.origin}\ncurrent:  ${b.origin}`);
    const diff = diffRuns(judgedSide(a), judgedSide(b), { thresholdPercent: settings.thresholdPercent, alpha: settings.alpha, correction: 'holm' });
    await core.summary.addRaw(formatDiff(diff, 'markdown')).write();
    const file = join(runner.temp, `virtnet-diff.${settings.format === 'markdown' ? 'md' : settings.format === 'json' ? 'json' : 'txt'}`);
    writeFileSync(file, formatDiff(diff, settings.format));
    if (settings.pageDir) {
      const files = await buildDiffFiles(diff);
      writeReportFiles(settings.pageDir, files);
      core.info(`diff page: ${files.length} files in ${settings.pageDir}`);
    }
    const s = diff.summary;
    core.info(`${s.compared} points compared: ${s.improved} improved, ${s.regressed} regressed, ${s.unchanged} unchanged, ${s.undecided} undecided`);
    core.setOutput('regressed', String(s.regressed));
    core.setOutput('improved', String(s.improved));
    core.setOutput('unchanged', String(s.unchanged));
    core.setOutput('undecided', String(s.undecided));
    core.setOutput('diff-file', file);
    if (settings.failOnRegression && hasRegression(diff)) throw new Error(`${s.regressed} point${s.regressed === 1 ? '' : 's'} regressed beyond ${settings.thresholdPercent}% (fail-on-regression)`);
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
