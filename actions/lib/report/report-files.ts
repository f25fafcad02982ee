// A run's report files (CSV, specs, claims, SVGs) rendered and written, and a run committed with its
// report (commitRun): used by `virtnet report`, the render-report action, the diff and the site
// build. SVG rendering (the slow part) is cached: a chart whose spec is byte-identical to the one
// already beside an SVG (in the site, or in the run's committed report) reuses that SVG.

import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import type { Manifest, ParsedResults } from '../measure/records.ts';
import { loadRun, MANIFEST_FILE, RESULTS_FILE } from '../measure/run-dir.ts';
import { reportTextFiles, runCharts, type ChartEntry, type ReportFile } from './report.ts';
import { analyseRun, type RunAnalysis } from '../analyse/run.ts';
import { renderSvg } from './render.ts';
import { dirUnder, writeUnder } from '../core/output-dir.ts';
import { checkRunId } from '../core/file-names.ts';

/** A cached file: only a regular file counts (a FIFO, a device or a link is not read, so it can neither hang the build nor bring in another file). */
export function readIfExists(path: string): string | null {
  try {
    return lstatSync(path).isFile() ? readFileSync(path, 'utf8') : null;
  } catch {
    return null;
  }
}

export interface RenderedReport {
  manifest: Manifest;
  analysis: RunAnalysis;
  charts: ChartEntry[];
  files: ReportFile[];
  /** Charts rendered now (the others came from the cache). */
  rendered: number;
  /** Charts left without an SVG: no cached copy, and rendering was off (render null). */
  noSvg: Set<string>;
}

/**
 * Analyses a run and renders its report files. `cacheDirs` are directories that may already hold
 * `charts/<id>.vl.json` + `charts/<id>.svg` from an earlier rendering of the same spec.
 */
export async function renderReport(manifest: Manifest, results: Pick<ParsedResults, 'records' | 'probes'>, claims: ClaimsFile, cacheDirs: string[] = [], render: (spec: TopLevelSpec) => Promise<string> = renderSvg): Promise<RenderedReport> {
  return renderAnalysedReport(manifest, analyseRun(manifest, results.records, claims, results.probes), cacheDirs, render);
}

/** renderReport for a run already analysed. `render` null: only SVGs found in cacheDirs, the other charts get none. */
export async function renderAnalysedReport(manifest: Manifest, analysis: RunAnalysis, cacheDirs: string[] = [], render: ((spec: TopLevelSpec) => Promise<string>) | null = renderSvg): Promise<RenderedReport> {
  const charts = runCharts(manifest, analysis);
  const files = reportTextFiles(manifest, analysis, charts);
  let rendered = 0;
  const noSvg = new Set<string>();
  for (const chart of charts) {
    const specText = `${JSON.stringify(chart.spec, null, 2)}\n`;
    let svg: string | null = null;
    for (const dir of cacheDirs) {
      if (readIfExists(join(dir, 'charts', `${chart.id}.vl.json`)) === specText) {
        svg = readIfExists(join(dir, 'charts', `${chart.id}.svg`));
        if (svg !== null) break;
      }
    }
    if (svg === null && render !== null) {
      svg = await render(chart.spec);
      rendered++;
    }
    if (svg === null) noSvg.add(chart.id);
    else files.push({ path: `charts/${chart.id}.svg`, content: svg });
  }
  // A chart without an SVG is drawn from the spec inside its page: no spec file beside it (a site
  // of a thousand runs built this way writes a third of the files).
  const kept = noSvg.size ? files.filter((f) => !(f.path.startsWith('charts/') && f.path.endsWith('.vl.json') && noSvg.has(f.path.slice('charts/'.length, -'.vl.json'.length)))) : files;
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

/** Where a run's report lives beside its data: <run>/report for a run directory, the run itself in reports/runs. */
export function reportCacheDirs(runDir: string): string[] {
  return [join(runDir, 'report'), runDir];
}

/**
 * Copies a run into reports/runs/<runId>/: manifest.json, results.jsonl and its report files
 * (charts/*.vl.json beside charts/*.svg, CSV, claims). Returns the directory.
 */
export async function commitRun(runDir: string, reportsDir: string, claims: ClaimsFile, render?: (spec: TopLevelSpec) => Promise<string>): Promise<{ dir: string; changed: number }> {
  const run = loadRun(runDir);
  const runId = checkRunId(run.manifest.runId);
  const dir = dirUnder(reportsDir, `runs/${runId}`);
  let changed = 0;
  for (const f of [MANIFEST_FILE, RESULTS_FILE]) {
    const src = join(runDir, f);
    if (existsSync(src) && resolve(src) !== resolve(join(dir, f)) && writeUnder(dir, f, readFileSync(src))) changed++;
  }
  const report = await renderReport(run.manifest, run.results, claims, [dir, ...reportCacheDirs(runDir)], render);
  changed += writeReportFiles(dir, report.files);
  return { dir, changed };
}
