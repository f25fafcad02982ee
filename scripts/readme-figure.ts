#!/usr/bin/env node
// The README's figure: one chart of a committed run, drawn by the project's own renderer (the same
// spec and SVG as the run's report and site). scripts/readme-figure.unit.test.ts checks that the
// committed SVG is this script's output, so the picture cannot drift from the run it names.
// Usage: node scripts/readme-figure.ts reports/runs/<runId> [CHART_ID] [OUT.svg]

import { writeFileSync } from 'node:fs';
import { loadClaims } from '../actions/lib/analyse/claims/file.ts';
import { loadRun } from '../actions/lib/measure/run-dir.ts';
import { runCharts } from '../actions/lib/report/report.ts';
import { analyseRun } from '../actions/lib/analyse/run.ts';
import { renderSvg } from '../actions/lib/report/render.ts';

export const README_RUN = 'reports/runs/20261207T230132-9cc549';
export const README_CHART = 'fig4a-tcp-absolute-from-100';
export const README_FIGURE = 'reports/readme-fig4a.svg';

const PLANS = new URL('../env/plans', import.meta.url).pathname;

/** The SVG of chart `chartId` of the run in `runDir`, as its report draws it. */
export async function readmeFigure(runDir: string, chartId: string = README_CHART): Promise<string> {
  const run = loadRun(runDir);
  const analysis = analyseRun(run.manifest, run.results.records, loadClaims('paper', PLANS), run.results.probes);
  const chart = runCharts(run.manifest, analysis).find((c) => c.id === chartId);
  if (!chart) throw new Error(`${runDir}: its report has no chart ${JSON.stringify(chartId)}`);
  return renderSvg(chart.spec);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [runDir = README_RUN, chartId = README_CHART, out = README_FIGURE] = process.argv.slice(2);
  writeFileSync(out, await readmeFigure(runDir, chartId));
  process.stdout.write(`${out}: ${chartId} of ${runDir}\n`);
}
