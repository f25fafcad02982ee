// Writing reports and the static site to disk: the I/O edge of report.ts and site.ts.
// Files are written only when their content changes, so regenerating an unchanged run touches
// nothing. SVG rendering (the slow part) is cached: a chart whose spec is byte-identical to the one
// already beside an SVG (in the site, or in the run's committed report) reuses that SVG.

import { createHash } from 'node:crypto';
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
import { loadRun, MANIFEST_FILE, MANIFEST_MAX_BYTES, RESULTS_FILE, type LoadedRun } from '../measure/run-dir.ts';
import { parseManifest } from '../measure/records.ts';
import { readRegularFile } from '../core/safe-read.ts';
import { HEADLINE_METRICS, headlineMetrics } from '../analyse/headline.ts';
import { comparable, diffMarks, historyPage, historyRun, overviewHtml, pairsPage, PAIRS_PATH, type HistoryMark, type HistoryRun } from './history.ts';
import { checkRunId, indexEntry, indexPage, renderPage, runPage, runPagePath, testbedOf, type IndexEntry, type Link, type SitePage } from './site.ts';
import { SITE_ASSET_NAMES, siteAsset } from './assets.ts';
import { dirUnder, writeUnder } from '../core/output-dir.ts';
import { DEFAULT_DIFF_OPTIONS, diffRuns, type DiffOptions } from '../diff/diff.ts';
import { formatDiffJson, formatDiffMarkdown, formatDiffText } from '../diff/format.ts';
import { compareLinksFor, diffDir, diffPagePath, diffSitePage, parseDiffPairs, PICKER_PATH, pickerPage, runDiffLinks, sitePairs, type RunPair } from './diff-pages.ts';

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
  return { manifest, analysis, charts, files, rendered, noSvg };
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
  /**
   * 'render' (default): every chart gets an SVG fallback, rendered unless a cached one has the same
   * spec. 'reuse': only cached SVGs (the site's own, a committed run's report) are used; the other
   * charts are drawn in the browser only. Rendering costs about 50 ms a chart (13 per run, 8 per
   * diff): a site of a thousand new runs is built in a minute only with 'reuse'.
   */
  svg?: 'render' | 'reuse';
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
  /** Runs analysed and drawn in this build (the others came from the site's cache, unchanged). */
  runsBuilt: number;
  /** Diffs computed in this build (the others came from the cache). */
  diffsBuilt: number;
}

/**
 * The site's cache (cache/ in the site): per run, what the index, the history and the pair page need
 * (its index entry, claims' verdicts and headline metrics), under a key that hashes everything the
 * run's pages are made of: the manifest's and results' bytes, the claims file, and the links the run
 * page shows; per diff, its summary and history marks under the hash of both runs' keys and the diff
 * options. A run whose key is unchanged and whose page is in the site is neither read nor analysed
 * nor drawn again. SITE_CACHE_VERSION is raised whenever what a page shows for the same input changes.
 */
export const SITE_CACHE_VERSION = 'virtnet-site-cache-1';

interface RunDigest {
  version: string;
  key: string;
  pageKey: string;
  entry: IndexEntry;
  claims: ClaimResult[];
  history: HistoryRun;
}

interface DiffDigest {
  version: string;
  key: string;
  regressed: number;
  improved: number;
  marks: HistoryMark[];
}

const hashOf = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : p).update('\0');
  return h.digest('hex');
};

/** A cache file, or null when missing, unreadable, of another version or another key. */
function readDigest<T extends { version: string; key: string }>(path: string, key: string): T | null {
  const text = readIfExists(path);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as T;
    return value && value.version === SITE_CACHE_VERSION && value.key === key ? value : null;
  } catch {
    return null;
  }
}

/** A file's bytes for a cache key: only a regular file (a link or a FIFO counts as absent; loadRun says why when it reads the run). */
function bytesIfExists(path: string): Buffer | null {
  try {
    return lstatSync(path).isFile() ? readFileSync(path) : null;
  } catch {
    return null;
  }
}

/** Builds the static site in siteDir from run directories (runs in progress or reports/runs/*). */
export async function buildSite(runDirs: readonly string[], siteDir: string, options: SiteOptions): Promise<SiteResult> {
  const log = options.log ?? (() => {});
  let written = 0;
  let rendered = 0;
  let runsBuilt = 0;
  let diffsBuilt = 0;
  for (const [name, src] of Object.entries(assetSources())) if (writeUnder(siteDir, `assets/${name}`, readFileSync(src))) written++;
  for (const name of SITE_ASSET_NAMES) if (writeUnder(siteDir, `assets/${name}`, siteAsset(name))) written++;
  const diffOptions = options.diffOptions ?? DEFAULT_DIFF_OPTIONS;
  const claimsHash = hashOf(SITE_CACHE_VERSION, JSON.stringify(options.claims), options.svg ?? 'render');
  // 1. Each run's key and, when its key is cached, its digest; else its manifest alone (for pairing).
  type Scanned = { dir: string; key: string; manifest: Manifest | null; cached: RunDigest | null; runId: string; createdAt: string; plan: string; testbed: string };
  const scanned: Scanned[] = runDirs.map((dir) => {
    const manifestBytes = bytesIfExists(join(dir, MANIFEST_FILE));
    const resultsBytes = bytesIfExists(join(dir, RESULTS_FILE));
    const key = hashOf(claimsHash, manifestBytes ?? 'no manifest', resultsBytes ?? 'no results');
    let runId: string | null = null;
    if (manifestBytes !== null) {
      try {
        const id = (JSON.parse(manifestBytes.toString('utf8')) as { runId?: unknown }).runId;
        if (typeof id === 'string') runId = id;
      } catch {
        // Not JSON: loadRun below says so, with the file's name.
      }
    }
    const cached = runId !== null && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId) ? readDigest<RunDigest>(join(siteDir, 'cache', 'runs', `${runId}.json`), key) : null;
    if (cached) return { dir, key, manifest: null, cached, runId: cached.history.runId, createdAt: cached.history.createdAt, plan: cached.history.plan, testbed: cached.history.testbed };
    const manifest = manifestBytes === null ? loadRun(dir).manifest : parseManifest(readRegularFile(join(dir, MANIFEST_FILE), { maxBytes: MANIFEST_MAX_BYTES, within: dir }), join(dir, MANIFEST_FILE));
    return { dir, key, manifest, cached: null, runId: manifest.runId, createdAt: manifest.createdAt, plan: manifest.plan?.name ?? '?', testbed: testbedOf(manifest) };
  });
  const seen = new Map<string, string>();
  for (const { dir, runId } of scanned) {
    checkRunId(runId);
    const earlier = seen.get(runId);
    if (earlier !== undefined) throw new Error(`run id ${runId} appears twice: in ${earlier} and in ${dir}`);
    seen.set(runId, dir);
  }
  const pairable = scanned.map(({ runId, createdAt, plan, testbed }) => ({ runId, createdAt, plan, testbed }));
  const pairs = sitePairs(pairable, parseDiffPairs(options.diffs ?? [], pairable.map((r) => r.runId)));
  const pickerHref = scanned.length > 1 ? PICKER_PATH : undefined;
  const builtInLinks = compareLinksFor(pairs);
  const diffs: SiteDiff[] = [];
  const marks: HistoryMark[] = [];
  const reuseOnly = options.svg === 'reuse';
  const workers = options.render || reuseOnly ? 1 : Math.max(1, options.workers ?? availableParallelism());
  // Workers only pay off when there is much to render; they start lazily on the first cache miss.
  let pool: RenderPool | null = null;
  const render = reuseOnly ? null : (options.render ?? (workers > 1 && scanned.length > 1 ? (spec: TopLevelSpec) => (pool ??= createRenderPool(workers)).render(spec) : renderSvg));
  const digests = new Map<string, RunDigest>();
  const position = new Map(scanned.map((r, i) => [r.runId, i]));
  const byId = new Map(scanned.map((r) => [r.runId, r]));
  const linksOf = (runId: string) => runDiffLinks(runId, pairs);
  const pageKeyOf = (r: Scanned) => hashOf(r.key, JSON.stringify(linksOf(r.runId)), pickerHref ?? '');
  // Runs read for this build, kept for the diffs that follow them (a diff's earlier run is most often a recent one).
  const recent = new Map<string, { run: LoadedRun; claims: ClaimResult[] }>();
  const remember = (runId: string, value: { run: LoadedRun; claims: ClaimResult[] }) => {
    recent.delete(runId);
    recent.set(runId, value);
    if (recent.size > 16) recent.delete(recent.keys().next().value!);
  };
  try {
    const diffKeyOf = (pair: RunPair) => hashOf(SITE_CACHE_VERSION, byId.get(pair.a)!.key, byId.get(pair.b)!.key, JSON.stringify(diffOptions), reuseOnly ? 'reuse' : 'render');
    const diffsAfter = new Map<number, RunPair[]>();
    for (const pair of pairs) {
      const later = Math.max(position.get(pair.a)!, position.get(pair.b)!);
      diffsAfter.set(later, [...(diffsAfter.get(later) ?? []), pair]);
    }
    type Job = { run: Scanned; pair?: undefined } | { pair: RunPair; run?: undefined };
    const jobs: Job[] = scanned.flatMap((run, i) => [{ run }, ...(diffsAfter.get(i) ?? []).map((pair) => ({ pair }))]);
    const buildRun = async (scan: Scanned) => {
      const runId = scan.runId;
      const pageKey = pageKeyOf(scan);
      const pagePath = runPagePath(runId);
      if (scan.cached && scan.cached.pageKey === pageKey && existsSync(join(siteDir, pagePath))) {
        digests.set(runId, scan.cached);
        return;
      }
      const runDir = scan.dir;
      const run = loadRun(runDir);
      const outDir = dirUnder(siteDir, `runs/${checkRunId(runId)}`);
      const analysis = analyseRun(run.manifest, run.results.records, options.claims, run.results.probes);
      const report = await renderAnalysedReport(run.manifest, analysis, [outDir, ...reportCacheDirs(runDir)], render);
      rendered += report.rendered;
      written += writeReportFiles(outDir, report.files);
      if (resolve(runDir) !== resolve(outDir)) {
        for (const f of [MANIFEST_FILE, RESULTS_FILE]) {
          const src = join(runDir, f);
          if (existsSync(src) && writeUnder(outDir, f, readFileSync(src))) written++;
        }
      }
      const page = runPage({ ...report, diffLinks: linksOf(runId), pickerHref: pickerHref && `../../${pickerHref}`, noSvg: report.noSvg });
      if (writeUnder(siteDir, page.path, renderPage(page))) written++;
      const entry = indexEntry(run.manifest, analysis.claims, analysis.environments);
      const roundTrips = Object.fromEntries(Object.entries(analysis.roundTrips).map(([e, rt]) => [e, rt.tcpMicroseconds]));
      const digest: RunDigest = { version: SITE_CACHE_VERSION, key: scan.key, pageKey, entry, claims: analysis.claims, history: historyRun(run.manifest, headlineMetrics(analysis.points, roundTrips)) };
      digests.set(runId, digest);
      if (writeUnder(siteDir, `cache/runs/${runId}.json`, `${JSON.stringify(digest)}\n`)) written++;
      remember(runId, { run, claims: analysis.claims });
      runsBuilt++;
      log(`  site: run ${runId} (${report.rendered} charts rendered, ${report.charts.length - report.rendered - report.noSvg.size} from cache${report.noSvg.size ? `, ${report.noSvg.size} without SVG` : ''})`);
    };
    const loaded = (runId: string) => {
      const hit = recent.get(runId);
      if (hit) return hit;
      const value = { run: loadRun(byId.get(runId)!.dir), claims: digests.get(runId)!.claims };
      remember(runId, value);
      return value;
    };
    const buildDiff = async (pair: RunPair) => {
      await Promise.all([runDone.get(pair.a), runDone.get(pair.b)]);
      const key = diffKeyOf(pair);
      const historyMarks = pair.kind !== 'requested' && comparable(digests.get(pair.a)!.history, digests.get(pair.b)!.history);
      const cachePath = `cache/diffs/${pair.a}--${pair.b}.json`;
      const cached = readDigest<DiffDigest>(join(siteDir, cachePath), key);
      if (cached && existsSync(join(siteDir, diffPagePath(pair.a, pair.b)))) {
        diffs.push({ pair, pagePath: join(siteDir, diffPagePath(pair.a, pair.b)), regressed: cached.regressed, improved: cached.improved });
        if (historyMarks) marks.push(...cached.marks);
        return;
      }
      const [ra, rb] = [loaded(pair.a), loaded(pair.b)];
      const diff = diffRuns(
        { label: pair.a, manifest: ra.run.manifest, records: ra.run.results.records, verdicts: ra.claims },
        { label: pair.b, manifest: rb.run.manifest, records: rb.run.results.records, verdicts: rb.claims },
        diffOptions,
      );
      const outDir = dirUnder(siteDir, diffDir(pair.a, pair.b));
      const files: ReportFile[] = [
        { path: 'diff.json', content: formatDiffJson(diff) },
        { path: 'diff.md', content: formatDiffMarkdown(diff) },
        { path: 'diff.txt', content: formatDiffText(diff) },
      ];
      let page = diffSitePage(diff, { a: ra.run.manifest, b: rb.run.manifest });
      let renderedHere = 0;
      const noSvg = new Set<string>();
      for (const chart of page.charts) {
        const specText = `${JSON.stringify(chart.spec, null, 2)}\n`;
        const svgPath = `charts/${chart.id}.svg`;
        const cachedSvg = readIfExists(join(outDir, chart.specPath)) === specText ? readIfExists(join(outDir, svgPath)) : null;
        const svg = cachedSvg ?? (render ? await render(chart.spec) : null);
        if (cachedSvg === null && svg !== null) renderedHere++;
        files.push({ path: chart.specPath, content: specText });
        if (svg === null) noSvg.add(chart.id);
        else files.push({ path: svgPath, content: svg });
      }
      if (noSvg.size) page = diffSitePage(diff, { a: ra.run.manifest, b: rb.run.manifest }, noSvg);
      rendered += renderedHere;
      written += writeReportFiles(outDir, files);
      if (writeUnder(siteDir, page.path, renderPage(page))) written++;
      const mine = diffMarks(diff, diffPagePath(pair.a, pair.b));
      const digest: DiffDigest = { version: SITE_CACHE_VERSION, key, regressed: diff.summary.regressed, improved: diff.summary.improved, marks: mine };
      if (writeUnder(siteDir, cachePath, `${JSON.stringify(digest)}\n`)) written++;
      if (historyMarks) marks.push(...mine);
      diffs.push({ pair, pagePath: join(siteDir, page.path), regressed: diff.summary.regressed, improved: diff.summary.improved });
      diffsBuilt++;
      log(`  site: diff ${pair.a} -> ${pair.b} (${renderedHere} charts rendered, ${page.charts.length - renderedHere - noSvg.size} from cache${noSvg.size ? `, ${noSvg.size} without SVG` : ''})`);
    };
    // A diff needs both its runs' digests: it waits for their jobs (which always start before it).
    const runDone = new Map<string, Promise<void>>();
    await eachBounded(jobs, 2 * workers, (job) => {
      if (!job.run) return buildDiff(job.pair);
      const done = buildRun(job.run);
      runDone.set(job.run.runId, done);
      return done;
    });
  } finally {
    if (pool) await (pool as RenderPool).close();
  }
  const runs: SiteRun[] = scanned.map((s) => ({ runId: s.runId, dir: s.dir, claims: digests.get(s.runId)!.claims, pagePath: join(siteDir, runPagePath(s.runId)) }));
  const entries = scanned.map((s) => ({ ...digests.get(s.runId)!.entry, compareLinks: [...(builtInLinks.get(s.runId) ?? []), ...(options.compareLinks?.get(s.runId) ?? [])] }));
  for (const page of options.extraPages ?? []) if (writeUnder(siteDir, page.path, renderPage(page))) written++;
  if (pickerHref && writeUnder(siteDir, PICKER_PATH, renderPage(pickerPage({ runs: pairable, pairs, command: options.command ?? null })))) written++;
  // The history, the overview and the pair page: redrawn from the digests on every build (milliseconds).
  const historyRuns = scanned.map((s) => digests.get(s.runId)!.history);
  const markOrder = (m: HistoryMark) => `${m.runId}\n${m.environment}\n${m.metric}`;
  marks.sort((x, y) => markOrder(x).localeCompare(markOrder(y)));
  const history = { runs: historyRuns, marks };
  for (const metric of HEADLINE_METRICS) {
    const page = historyPage(history, metric);
    if (writeUnder(siteDir, page.path, renderPage(page))) written++;
  }
  const pairRuns = scanned.map((s) => ({ ...digests.get(s.runId)!.history, claims: digests.get(s.runId)!.claims }));
  if (writeUnder(siteDir, PAIRS_PATH, renderPage(pairsPage(pairRuns)))) written++;
  const indexPath = join(siteDir, 'index.html');
  if (writeUnder(siteDir, 'index.html', renderPage(indexPage(entries, pickerHref, scanned.length ? overviewHtml(history) : null, PAIRS_PATH)))) written++;
  const pairOrder = new Map(pairs.map((p, i) => [p, i]));
  diffs.sort((x, y) => pairOrder.get(x.pair)! - pairOrder.get(y.pair)!);
  return { indexPath, runs, diffs, written, rendered, runsBuilt, diffsBuilt };
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

