// render-report: parse inputs, find the runs, commit each through the report library (its data,
// analysis, claims, figures), optionally build the site, and summarize with the claims table.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseRenderReportInputs, runnerContext } from '../../lib/action/inputs.ts';
import { claimsSummary, compactTable, KEY_FIGURE } from '../../lib/report/job-summary.ts';
import { runPagePath } from '../../lib/site/site.ts';
import { mdCode, mdText } from '../../lib/core/escape.ts';
import { analyseRun } from '../../lib/analyse/run.ts';
import { loadClaims } from '../../lib/analyse/claims/file.ts';
import { isRunDir } from '../../lib/measure/run-dir.ts';
import {
  findRunCopies,
  missingEnvironments,
  missingLegsMessage,
  mostCompleteCopies,
} from '../../lib/action/run-copies.ts';
import { buildSite } from '../../lib/site/build.ts';
import { commitRun } from '../../lib/report/report-files.ts';

export async function run(io: ActionIO = actionsCore()): Promise<void> {
  try {
    const settings = parseRenderReportInputs(io.input, runnerContext(io.env));
    const claims = loadClaims(settings.claims.nameOrPath, settings.claims.dir);
    const runs = mostCompleteCopies(findRunCopies(settings.runsPath));
    if (runs.length === 0) {
      const legs =
        settings.environments.length > 0
          ? ` (no data from any leg: ${settings.environments.join(', ')}; see the client jobs' summaries)`
          : '';
      throw new Error(`input runs: no run directory (with manifest.json) found in ${settings.runsPath}${legs}`);
    }
    const lines = ['## virtnet report\n'];
    const dirs: string[] = [];
    let changed = 0;
    for (const run of runs) {
      const committed = await commitRun(run.dir, settings.reportsDir, claims);
      dirs.push(committed.dir);
      changed += committed.changed;
      const { manifest, results } = run;
      const analysis = analyseRun(manifest, results.records, claims, results.probes);
      lines.push(
        `### Run ${mdCode(manifest.runId)} (${mdText(manifest.status)}): plan ${mdText(manifest.plan.name)}, ${manifest.environments.map(mdText).join(', ')}\n`,
      );
      lines.push(`${committed.changed} files written or changed in ${mdCode(committed.dir)}.\n`);
      const missing = missingEnvironments(run, settings.environments);
      if (missing.length > 0) {
        const message = missingLegsMessage(manifest.runId, missing);
        io.warning(message);
        lines.push(`**Missing:** ${mdText(message)}\n`);
      }
      lines.push("#### The paper's claims\n");
      const page = settings.siteUrl ? `${settings.siteUrl}/${runPagePath(manifest.runId)}` : null;
      const figure = settings.siteUrl ? `${settings.siteUrl}/runs/${manifest.runId}/charts/${KEY_FIGURE}.svg` : null;
      lines.push(claimsSummary(analysis.claims, { runPageUrl: page, figureUrl: figure }));
      lines.push('#### Results\n');
      lines.push(compactTable(results.records));
    }
    if (settings.siteDir) {
      const runsDir = join(settings.reportsDir, 'runs');
      const all = readdirSync(runsDir)
        .sort()
        .map((name) => join(runsDir, name))
        .filter(isRunDir);
      // One worker: the render pool's worker script is not part of this bundle. A line per run and
      // per diff, folded: the summary line after the group says what came of them.
      io.startGroup(`site: building from ${all.length} committed runs`);
      let site: Awaited<ReturnType<typeof buildSite>>;
      try {
        site = await buildSite(all, settings.siteDir, { claims, workers: 1, log: (m) => io.info(m) });
      } finally {
        io.endGroup();
      }
      io.info(
        `site: ${site.runs.length} runs, ${site.diffs.length} diffs, ${site.written} files written, ${site.rendered} charts rendered`,
      );
      io.setOutput('site-index', site.indexPath);
      lines.push(`\nSite: ${site.runs.length} runs, ${site.written} files written, index ${mdCode(site.indexPath)}.\n`);
    }
    await io.appendSummary(lines.join('\n'));
    io.setOutput('run-ids', runs.map((r) => r.manifest.runId).join(','));
    io.setOutput('report-dirs', dirs.join(','));
    io.setOutput('files', String(changed));
  } catch (error) {
    io.setFailed((error as Error).message);
  }
}
