// Writing reports and the static site to disk: the I/O edge of report.ts and site.ts.
// Files are written only when their content changes, so regenerating an unchanged run touches
// nothing. SVG rendering (the slow part) is cached: a chart whose spec is byte-identical to the one
// already beside an SVG (in the site, or in the run's committed report) reuses that SVG.

import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import type { Manifest, ParsedResults } from '../measure/records.ts';
import { analyseRun, reportTextFiles, runCharts, type ChartEntry, type ReportFile, type RunAnalysis } from '../report/report.ts';
import { renderSvg } from '../report/render.ts';
import { createRenderPool, type RenderPool } from '../report/render-pool.ts';
import { loadRun, MANIFEST_FILE, RESULTS_FILE } from '../measure/run-dir.ts';
import { checkRunId, indexEntry, indexPage, renderPage, runPage, type IndexEntry, type Link, type SitePage } from './site.ts';
import { SITE_ASSET_NAMES, siteAsset } from './assets.ts';
import { dirUnder, writeUnder } from '../core/output-dir.ts';
import { DEFAULT_DIFF_OPTIONS, diffRuns, type DiffOptions } from '../diff/diff.ts';
import { formatDiffJson, formatDiffMarkdown, formatDiffText } from '../diff/format.ts';
import { compareLinksFor, diffDir, diffSitePage, parseDiffPairs, PICKER_PATH, pickerPage, runDiffLinks, sitePairs, type RunPair } from './diff-pages.ts';

/** A cached file: only a regular file counts (a FIFO, a device or a link is not read, so it can neither hang the build nor bring in another file). */
function readIfExists(path: string): string | null {
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
}

/**
 * Analyses a run and renders its report files. `cacheDirs` are directories that may already hold
 * `charts/<id>.vl.json` + `charts/<id>.svg` from an earlier rendering of the same spec.
 */
export async function renderReport(manifest: Manifest, results: Pick<ParsedResults, 'records' | 'probes'>, claims: ClaimsFile, cacheDirs: string[] = [], render: (spec: TopLevelSpec) => Promise<string> = renderSvg): Promise<RenderedReport> {
  return renderAnalysedReport(manifest, analyseRun(manifest, results.records, claims, results.probes), cacheDirs, render);
}

/** renderReport for a run already analysed. */
export async function renderAnalysedReport(manifest: Manifest, analysis: RunAnalysis, cacheDirs: string[] = [], render: (spec: TopLevelSpec) => Promise<string> = renderSvg): Promise<RenderedReport> {
  const charts = runCharts(manifest, analysis);
  const files = reportTextFiles(manifest, analysis, charts);
  let rendered = 0;
  for (const chart of charts) {
    const specText = `${JSON.stringify(chart.spec, null, 2)}\n`;
    let svg: string | null = null;
    for (const dir of cacheDirs) {
      if (readIfExists(join(dir, 'charts', `${chart.id}.vl.json`)) === specText) {
        svg = readIfExists(join(dir, 'charts', `${chart.id}.svg`));
        if (svg !== null) break;
      }
    }
    if (svg === null) {
      svg = await render(chart.spec);
      rendered++;
    }
    files.push({ path: `charts/${chart.id}.svg`, content: svg });
  }
  return { manifest, analysis, charts, files, rendered };
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

const require = createRequire(import.meta.url);

/** The browser builds of vega, vega-lite and vega-embed, from node_modules: the site needs no CDN. */
export function assetSources(): Record<string, string> {
  const build = (pkg: string, file: string) => {
    // Some packages do not export package.json: walk up from the main entry to the package root.
    let dir = dirname(require.resolve(pkg));
    while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg) {
      const up = dirname(dir);
      if (up === dir) throw new Error(`cannot find the package root of ${pkg}`);
      dir = up;
    }
    const path = join(dir, 'build', file);
    if (!existsSync(path)) throw new Error(`${pkg} has no browser build ${file}: run npm ci`);
    return path;
  };
  return {
    'vega.min.js': build('vega', 'vega.min.js'),
    'vega-lite.min.js': build('vega-lite', 'vega-lite.min.js'),
    'vega-embed.min.js': build('vega-embed', 'vega-embed.min.js'),
  };
}

/** Starts task(item) for the items in order, with at most `limit` unsettled; resolves when all have. */
async function eachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (const item of items) {
    const p = task(item);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

export interface SiteOptions {
  /** The claims judged on every run (loadClaims): the site does not pick them. */
  claims: ClaimsFile;
  /** More pages (e.g. diffs of two runs), written as they are. */
  extraPages?: SitePage[];
  /** Links per run id for the index's Compare column (after the built-in "compare with previous"). */
  compareLinks?: ReadonlyMap<string, Link[]>;
  /** Extra diffs to build, as "A:B" run ids (`--diff A:B`); each run's diff with its previous run is always built. */
  diffs?: string[];
  /** Options of every diff (default: DEFAULT_DIFF_OPTIONS). */
  diffOptions?: DiffOptions;
  /** The command that builds this site, as words (the picker shows it with `--diff A:B` appended for pairs not built). */
  command?: string[];
  render?: (spec: TopLevelSpec) => Promise<string>;
  /** Worker threads for SVG rendering (default: the machine's parallelism; 1 renders in-process). Ignored with `render`. */
  workers?: number;
  log?: (message: string) => void;
}

export interface SiteRun {
  runId: string;
  dir: string;
  claims: ClaimResult[];
  pagePath: string;
}

export interface SiteDiff {
  pair: RunPair;
  pagePath: string;
  regressed: number;
  improved: number;
}

export interface SiteResult {
  indexPath: string;
  runs: SiteRun[];
  diffs: SiteDiff[];
  written: number;
  rendered: number;
}

/** Builds the static site in siteDir from run directories (runs in progress or reports/runs/*). */
export async function buildSite(runDirs: readonly string[], siteDir: string, options: SiteOptions): Promise<SiteResult> {
  const log = options.log ?? (() => {});
  let written = 0;
  let rendered = 0;
  for (const [name, src] of Object.entries(assetSources())) if (writeUnder(siteDir, `assets/${name}`, readFileSync(src))) written++;
  for (const name of SITE_ASSET_NAMES) if (writeUnder(siteDir, `assets/${name}`, siteAsset(name))) written++;
  const loaded = runDirs.map((dir) => ({ dir, run: loadRun(dir) }));
  const seen = new Map<string, string>();
  for (const { dir, run } of loaded) {
    const runId = checkRunId(run.manifest.runId);
    const earlier = seen.get(runId);
    if (earlier !== undefined) throw new Error(`run id ${runId} appears twice: in ${earlier} and in ${dir}`);
    seen.set(runId, dir);
  }
  const pairable = loaded.map(({ run }) => ({ runId: run.manifest.runId, createdAt: run.manifest.createdAt, plan: run.manifest.plan?.name ?? '?' }));
  const pairs = sitePairs(pairable, parseDiffPairs(options.diffs ?? [], pairable.map((r) => r.runId)));
  const pickerHref = loaded.length > 1 ? PICKER_PATH : undefined;
  const builtInLinks = compareLinksFor(pairs);
  const diffs: SiteDiff[] = [];
  const workers = options.render ? 1 : Math.max(1, options.workers ?? availableParallelism());
  // Workers only pay off when there is much to render; they start lazily on the first cache miss.
  let pool: RenderPool | null = null;
  const render = options.render ?? (workers > 1 && loaded.length > 1 ? (spec: TopLevelSpec) => (pool ??= createRenderPool(workers)).render(spec) : renderSvg);
  const results: { entry: IndexEntry; run: SiteRun }[] = [];
  const position = new Map(loaded.map(({ run }, i) => [run.manifest.runId, i]));
  try {
    // One pipeline of runs and diffs: runs are analysed here one after another and rendered
    // concurrently, so the pool stays busy; each diff follows the later of its two runs (it needs
    // both runs' claims), so diffs are computed while the pool still draws runs' charts.
    const byId = new Map(loaded.map(({ run }) => [run.manifest.runId, run]));
    const claimsById = new Map<string, ClaimResult[]>();
    const diffsAfter = new Map<number, RunPair[]>();
    for (const pair of pairs) {
      const later = Math.max(position.get(pair.a)!, position.get(pair.b)!);
      diffsAfter.set(later, [...(diffsAfter.get(later) ?? []), pair]);
    }
    type Job = { run: (typeof loaded)[number]; pair?: undefined } | { pair: RunPair; run?: undefined };
    const jobs: Job[] = loaded.flatMap((run, i) => [{ run }, ...(diffsAfter.get(i) ?? []).map((pair) => ({ pair }))]);
    const buildRun = async ({ dir: runDir, run }: (typeof loaded)[number]) => {
      const runId = run.manifest.runId;
      const outDir = dirUnder(siteDir, `runs/${checkRunId(runId)}`);
      const analysis = analyseRun(run.manifest, run.results.records, options.claims, run.results.probes);
      claimsById.set(runId, analysis.claims);
      const report = await renderAnalysedReport(run.manifest, analysis, [outDir, ...reportCacheDirs(runDir)], render);
      rendered += report.rendered;
      written += writeReportFiles(outDir, report.files);
      if (resolve(runDir) !== resolve(outDir)) {
        for (const f of [MANIFEST_FILE, RESULTS_FILE]) {
          const src = join(runDir, f);
          if (existsSync(src) && writeUnder(outDir, f, readFileSync(src))) written++;
        }
      }
      const page = runPage({ ...report, diffLinks: runDiffLinks(runId, pairs), pickerHref: pickerHref && `../../${pickerHref}` });
      if (writeUnder(siteDir, page.path, renderPage(page))) written++;
      const entry = indexEntry(run.manifest, report.analysis.claims, report.analysis.environments);
      entry.compareLinks = [...(builtInLinks.get(runId) ?? []), ...(options.compareLinks?.get(runId) ?? [])];
      results.push({ entry, run: { runId, dir: runDir, claims: report.analysis.claims, pagePath: join(siteDir, page.path) } });
      log(`  site: run ${runId} (${report.rendered} charts rendered, ${report.charts.length - report.rendered} from cache)`);
    };
    const buildDiff = async (pair: RunPair) => {
      const [ra, rb] = [byId.get(pair.a)!, byId.get(pair.b)!];
      const diff = diffRuns(
        { label: pair.a, manifest: ra.manifest, records: ra.results.records, verdicts: claimsById.get(pair.a) },
        { label: pair.b, manifest: rb.manifest, records: rb.results.records, verdicts: claimsById.get(pair.b) },
        options.diffOptions ?? DEFAULT_DIFF_OPTIONS,
      );
      const page = diffSitePage(diff, { a: ra.manifest, b: rb.manifest });
      const outDir = dirUnder(siteDir, diffDir(pair.a, pair.b));
      const files: ReportFile[] = [
        { path: 'diff.json', content: formatDiffJson(diff) },
        { path: 'diff.md', content: formatDiffMarkdown(diff) },
        { path: 'diff.txt', content: formatDiffText(diff) },
      ];
      let renderedHere = 0;
      for (const chart of page.charts) {
        const specText = `${JSON.stringify(chart.spec, null, 2)}\n`;
        const cached = readIfExists(join(outDir, chart.specPath)) === specText ? readIfExists(join(outDir, chart.svgPath)) : null;
        const svg = cached ?? (await render(chart.spec));
        if (cached === null) renderedHere++;
        files.push({ path: chart.specPath, content: specText }, { path: chart.svgPath, content: svg });
      }
      rendered += renderedHere;
      written += writeReportFiles(outDir, files);
      if (writeUnder(siteDir, page.path, renderPage(page))) written++;
      diffs.push({ pair, pagePath: join(siteDir, page.path), regressed: diff.summary.regressed, improved: diff.summary.improved });
      log(`  site: diff ${pair.a} -> ${pair.b} (${renderedHere} charts rendered, ${page.charts.length - renderedHere} from cache)`);
    };
    await eachBounded(jobs, 2 * workers, (job) => (job.run ? buildRun(job.run) : buildDiff(job.pair)));
  } finally {
    if (pool) await (pool as RenderPool).close();
  }
  results.sort((a, b) => position.get(a.run.runId)! - position.get(b.run.runId)!);
  const entries = results.map((r) => r.entry);
  const runs = results.map((r) => r.run);
  for (const page of options.extraPages ?? []) if (writeUnder(siteDir, page.path, renderPage(page))) written++;
  if (pickerHref && writeUnder(siteDir, PICKER_PATH, renderPage(pickerPage({ runs: pairable, pairs, command: options.command ?? null })))) written++;
  const indexPath = join(siteDir, 'index.html');
  if (writeUnder(siteDir, 'index.html', renderPage(indexPage(entries, pickerHref)))) written++;
  const pairOrder = new Map(pairs.map((p, i) => [p, i]));
  diffs.sort((x, y) => pairOrder.get(x.pair)! - pairOrder.get(y.pair)!);
  return { indexPath, runs, diffs, written, rendered };
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

