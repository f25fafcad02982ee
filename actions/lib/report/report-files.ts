// A run's report files (CSV, specs, claims, SVGs) rendered and written, and a run committed with its
// report (commitRun): used by `virtnet report`, the render-report action, the diff and the site
// build. Every SVG is drawn here from its spec, never taken from a directory: an SVG found beside a
// run (RUN/report, RUN, a committed run) is supplied, not ours, and an SVG is a document that can
// carry script. Drawing costs ~50 ms a chart; a site that cannot afford it for many runs is built
// with svg 'none' (the browser draws from the spec).

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import type { Manifest, ParsedResults } from '../measure/records.ts';
import { loadRun, MANIFEST_FILE, RESULTS_FILE, RUN_FILE_MAX_BYTES } from '../measure/run-dir.ts';
import { reportTextFiles, runCharts, type ChartEntry, type ReportFile } from './report.ts';
import { analyseRun, type RunAnalysis } from '../analyse/run.ts';
import { renderSvg } from './render.ts';
import { dirUnder, writeUnder } from '../core/output-dir.ts';
import { readRegularBytes } from '../core/safe-read.ts';
import { checkRunId } from '../core/file-names.ts';

export interface RenderedReport {
  manifest: Manifest;
  analysis: RunAnalysis;
  charts: ChartEntry[];
  files: ReportFile[];
  /** Charts drawn (all of them, unless render was null). */
  rendered: number;
  /** Charts left without an SVG: rendering was off (render null). */
  noSvg: Set<string>;
}

/** Analyses a run and renders its report files, every chart drawn by `render`. */
export async function renderReport(
  manifest: Manifest,
  results: Pick<ParsedResults, 'records' | 'probes'>,
  claims: ClaimsFile,
  render: (spec: TopLevelSpec) => Promise<string> = renderSvg,
): Promise<RenderedReport> {
  return renderAnalysedReport(manifest, analyseRun(manifest, results.records, claims, results.probes), render);
}

/** renderReport for a run already analysed. `render` null: no chart gets an SVG (the page draws each from its spec). */
export async function renderAnalysedReport(
  manifest: Manifest,
  analysis: RunAnalysis,
  render: ((spec: TopLevelSpec) => Promise<string>) | null = renderSvg,
): Promise<RenderedReport> {
  const charts = runCharts(manifest, analysis);
  const files = reportTextFiles(manifest, analysis, charts);
  let rendered = 0;
  const noSvg = new Set<string>();
  for (const chart of charts) {
    if (render === null) {
      noSvg.add(chart.id);
      continue;
    }
    files.push({ path: `charts/${chart.id}.svg`, content: await render(chart.spec) });
    rendered++;
  }
  // A chart without an SVG is drawn from the spec inside its page: no spec file beside it (a site
  // of a thousand runs built this way writes a third of the files).
  const kept = noSvg.size
    ? files.filter(
        (f) =>
          !(
            f.path.startsWith('charts/') &&
            f.path.endsWith('.vl.json') &&
            noSvg.has(f.path.slice('charts/'.length, -'.vl.json'.length))
          ),
      )
    : files;
  return { manifest, analysis, charts, files: kept, rendered, noSvg };
}

/**
 * Writes report files under dir (made if missing), each only if its content changed; returns how
 * many changed. Never writes outside dir: a symbolically linked dir, a link inside it or a path
 * that would leave it is refused (core/output-dir.ts).
 */
export function writeReportFiles(dir: string, files: readonly ReportFile[]): number {
  let changed = 0;
  for (const f of files) if (writeUnder(dir, f.path, f.content)) changed++;
  return changed;
}

/**
 * Copies a run into reports/runs/<runId>/: manifest.json, results.jsonl and its report files
 * (charts/*.vl.json beside charts/*.svg, CSV, claims). Returns the directory.
 */
export async function commitRun(
  runDir: string,
  reportsDir: string,
  claims: ClaimsFile,
  render?: (spec: TopLevelSpec) => Promise<string>,
): Promise<{ dir: string; changed: number }> {
  const run = loadRun(runDir);
  const runId = checkRunId(run.manifest.runId);
  const dir = dirUnder(reportsDir, `runs/${runId}`);
  let changed = 0;
  for (const f of [MANIFEST_FILE, RESULTS_FILE]) {
    const src = join(runDir, f);
    if (
      existsSync(src) &&
      resolve(src) !== resolve(join(dir, f)) &&
      writeUnder(dir, f, readRegularBytes(src, { maxBytes: RUN_FILE_MAX_BYTES[f]!, within: runDir }))
    )
      changed++;
  }
  const report = await renderReport(run.manifest, run.results, claims, render);
  changed += writeReportFiles(dir, report.files);
  return { dir, changed };
}
