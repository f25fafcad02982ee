// render-report: parse inputs, find the runs, write each run's data and report files through the
// report library, summarize.

import * as core from '@actions/core';
import { parseRenderReportInputs, runnerContext } from '../../lib/action-inputs.ts';
import { writeRunReport } from '../../lib/publish-run.ts';
import { compactTable, mdCell } from '../../lib/job-summary.ts';
import { findRunCopies, mostCompleteCopies } from '../../lib/run-copies.ts';

export async function run(): Promise<void> {
  try {
    const settings = parseRenderReportInputs((name) => core.getInput(name), runnerContext(process.env));
    const runs = mostCompleteCopies(findRunCopies(settings.runsPath));
    if (runs.length === 0) throw new Error(`input runs: no run directory (with manifest.json) found in ${settings.runsPath}`);
    const written = [];
    for (const run of runs) written.push(await writeRunReport(run, settings.outDir));
    const lines = ['## virtnet report\n'];
    for (const w of written) {
      lines.push(`### Run \`${mdCell(w.runId)}\` (${mdCell(w.status)}): plan ${mdCell(w.plan)}, ${w.environments.map(mdCell).join(', ')}\n`);
      lines.push(`${w.files} files in \`${mdCell(w.dir)}\`.\n`);
      lines.push(compactTable(w.records));
    }
    await core.summary.addRaw(lines.join('\n')).write();
    core.setOutput('run-ids', written.map((w) => w.runId).join(','));
    core.setOutput('report-dirs', written.map((w) => w.dir).join(','));
    core.setOutput('files', String(written.reduce((n, w) => n + w.files, 0)));
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
