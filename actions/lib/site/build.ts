// Writing the static site to disk: the I/O edge of site.ts.
// Files are written only when their content changes, so regenerating an unchanged run touches
// nothing; a run or diff whose inputs are unchanged is not even read again (the site's cache, below).
// The per-run and per-diff work is in build-jobs.ts (on worker threads for many runs); SVG rendering
// is cached by spec (report/report-files.ts).

import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import { HEADLINE_METRICS } from '../analyse/headline.ts';
import { createRenderPool, type RenderPool } from '../report/render-pool.ts';
import {
  loadRun,
  MANIFEST_FILE,
  MANIFEST_MAX_BYTES,
  RESULTS_FILE,
  RESULTS_MAX_BYTES,
  RUN_FILE_MAX_BYTES,
} from '../measure/run-dir.ts';
import { parseManifest } from '../measure/records.ts';
import { MiB, readRegularBytes, readRegularFile, readRegularFileIfExists } from '../core/safe-read.ts';
import { writeUnder } from '../core/output-dir.ts';
import { DEFAULT_DIFF_OPTIONS, type DiffOptions } from '../diff/diff.ts';
import { comparable, historyPage, overviewHtml, pairsPage, PAIRS_PATH, type HistoryMark } from './history.ts';
import { checkRunId } from '../core/file-names.ts';
import { indexPage, renderPage, runPagePath, testbedOf, type Link, type SitePage } from './site.ts';
import { SITE_ASSET_NAMES, siteAsset } from './assets.ts';
import { atomFeed, FEED_PATH, REGRESSIONS_PATH, regressionsPage, type ChangeEntry } from './regressions.ts';
import {
  compareLinksFor,
  diffPagePath,
  parseDiffPairs,
  PICKER_PATH,
  pickerPage,
  diffLinksByRun,
  sitePairs,
  type RunPair,
} from './diff-pages.ts';
import {
  diffCachePath,
  doOnWorkers,
  localRunner,
  runCachePath,
  SITE_CACHE_VERSION,
  type DiffDigest,
  type FileStamp,
  type Job,
  type JobContext,
  type JobResult,
  type RunDigest,
  type Verdict,
} from './build-jobs.ts';

/** The site's own cache files (digests, the index of a thousand runs) are well below this. */
const SITE_CACHE_MAX_BYTES = 64 * MiB;

/** A cache file of the site's, or null: only a regular file of at most SITE_CACHE_MAX_BYTES counts (a FIFO, a device, a link out or a huge file is not read, so it can neither hang the build, exhaust its memory nor bring in another file). */
export function readIfExists(path: string): string | null {
  try {
    return readRegularFileIfExists(path, { maxBytes: SITE_CACHE_MAX_BYTES });
  } catch {
    return null;
  }
}

const require = createRequire(import.meta.url);

/** The browser builds of vega, vega-lite and vega-embed, from node_modules: the site needs no CDN. */
export function assetSources(): Record<string, string> {
  const build = (pkg: string, file: string) => {
    // Some packages do not export package.json: walk up from the main entry to the package root.
    let dir = dirname(require.resolve(pkg));
    while (
      !existsSync(join(dir, 'package.json')) ||
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg
    ) {
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
   * 'render' (default): every chart of a run or diff that is built gets an SVG fallback, drawn from
   * its spec (never taken from a directory: report-files.ts says why). 'none': no SVG, every chart
   * is drawn in the browser only. Rendering costs about 50 ms a chart (13 per run, 8 per diff): a
   * site of a thousand new runs is built in a minute only with 'none'.
   */
  svg?: 'render' | 'none';
  /** Worker threads for SVG rendering (default: the machine's parallelism; 1 renders in-process). Ignored with `render`. */
  workers?: number;
  log?: (message: string) => void;
}

export interface SiteRun {
  runId: string;
  dir: string;
  /** The verdicts (id, text, verdict, qualifier); the whole judgement is on the run page. */
  claims: Verdict[];
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
 * nor drawn again (build-jobs.ts SITE_CACHE_VERSION is raised whenever a page changes for the same input).
 */
const hashOf = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
};

/** A cache file, or null when missing, unreadable, of another version or (key not null) another key. */
function readDigest<T extends { version: string; key: string }>(path: string, key: string | null): T | null {
  const text = readIfExists(path);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as T;
    return value && value.version === SITE_CACHE_VERSION && (key === null || value.key === key) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A file's hash, taken again only when its size, modification time or inode differ from the stamp
 * the cache holds (as git's index does: a run's files are appended to or replaced, never rewritten
 * in place at the same size and time). Null when there is no regular file (loadRun says why when it
 * reads the run).
 */
function fileStamp(path: string, previous: FileStamp | null): FileStamp | null {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  if (previous && previous.size === st.size && previous.mtimeMs === st.mtimeMs && previous.ino === st.ino)
    return previous;
  const bytes = bytesIfExists(path);
  return bytes === null ? null : { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: hashOf(bytes) };
}

/** The cache's index: per run directory (by the hash of its path, so no path of the machine is in the site), its manifest's stamp and its digest. */
interface CacheIndex {
  version: string;
  runs: Record<string, { manifest: FileStamp; digest: RunDigest }>;
}

const CACHE_INDEX = 'cache/index.json';

function readCacheIndex(siteDir: string): CacheIndex['runs'] {
  const text = readIfExists(join(siteDir, CACHE_INDEX));
  try {
    const value = text === null ? null : (JSON.parse(text) as CacheIndex);
    if (value && value.version === SITE_CACHE_VERSION && typeof value.runs === 'object' && value.runs !== null)
      return value.runs;
  } catch {
    // A damaged index is no index: every run is looked up by its own cache file.
  }
  return {};
}

/** results.jsonl's stamp; when it is not a regular file of its own (a link inside the run), hashed as loadRun reads it, each time. */
function resultsStamp(dir: string, previous: FileStamp | null): FileStamp | null {
  const path = join(dir, RESULTS_FILE);
  const stamp = fileStamp(path, previous);
  if (stamp !== null) return stamp;
  try {
    lstatSync(path);
  } catch {
    return null; // no results yet
  }
  try {
    return {
      size: -1,
      mtimeMs: -1,
      ino: -1,
      sha256: hashOf(readRegularFile(path, { maxBytes: RESULTS_MAX_BYTES, within: dir })),
    };
  } catch {
    return { size: -1, mtimeMs: -1, ino: -1, sha256: 'unreadable' }; // loadRun says why when the run is built
  }
}

/** The manifest's hash when it is not a regular file of its own (never taken from a stamp). */
function unstampedManifest(dir: string): FileStamp {
  const manifest = loadRun(dir).manifest;
  return { size: -1, mtimeMs: -1, ino: -1, sha256: hashOf(JSON.stringify(manifest)) };
}

/** A file's bytes for a cache key: only a regular file (a link or a FIFO counts as absent; loadRun says why when it reads the run). */
function bytesIfExists(path: string): Buffer | null {
  try {
    return lstatSync(path).isFile() ? readRegularBytes(path, { maxBytes: RESULTS_MAX_BYTES }) : null;
  } catch {
    return null;
  }
}

/**
 * The code that makes the pages, as a hash: part of every cache key, so a site built by other code
 * is rebuilt whole. In an action's bundle, the bundle itself; from the sources, every library module
 * (actions/lib/**.ts but tests), a few milliseconds to read.
 */
let fingerprint: string | null = null;
export function codeFingerprint(): string {
  if (fingerprint !== null) return fingerprint;
  const self = fileURLToPath(import.meta.url);
  const h = createHash('sha256');
  if (!self.endsWith('.ts')) h.update(readFileSync(self));
  else {
    const lib = dirname(dirname(self));
    const files = (readdirSync(lib, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .sort();
    for (const f of files)
      h.update(f)
        .update('\0')
        .update(readFileSync(join(lib, f)))
        .update('\0');
    for (const name of SITE_ASSET_NAMES) h.update(siteAsset(name));
  }
  return (fingerprint = h.digest('hex'));
}

/** Below this many runs to build, worker threads cost more than they save. */
const WORKER_THRESHOLD = 8;

/** Builds the static site in siteDir from run directories (runs in progress or reports/runs/*). */
export async function buildSite(
  runDirs: readonly string[],
  siteDir: string,
  options: SiteOptions,
): Promise<SiteResult> {
  const log = options.log ?? (() => {});
  let written = 0;
  let rendered = 0;
  for (const [name, src] of Object.entries(assetSources()))
    if (writeUnder(siteDir, `assets/${name}`, readFileSync(src))) written++;
  for (const name of SITE_ASSET_NAMES) if (writeUnder(siteDir, `assets/${name}`, siteAsset(name))) written++;
  const diffOptions = options.diffOptions ?? DEFAULT_DIFF_OPTIONS;
  const renderSvgs = options.svg !== 'none';
  const claimsHash = hashOf(
    SITE_CACHE_VERSION,
    codeFingerprint(),
    JSON.stringify(options.claims),
    renderSvgs ? 'render' : 'none',
  );
  // 1. Each run's key and, when its key is cached, its digest; else its manifest (for pairing).
  type Scanned = {
    dir: string;
    key: string;
    results: FileStamp | null;
    cached: RunDigest | null;
    runId: string;
    createdAt: string;
    plan: string;
    testbed: string;
  };
  const cacheIndex = readCacheIndex(siteDir);
  const stamps = new Map<string, { dirKey: string; manifest: FileStamp }>();
  const scanned: Scanned[] = runDirs.map((dir) => {
    // The index of the cache first: no file of the run is read when neither changed since.
    const dirKey = hashOf(resolve(dir));
    const indexed = Object.hasOwn(cacheIndex, dirKey) ? cacheIndex[dirKey]! : null;
    // Not a regular file: loadRun says why it cannot be read, or reads it (a link inside the run) and it is hashed each time.
    const manifestStamp = fileStamp(join(dir, MANIFEST_FILE), indexed?.manifest ?? null) ?? unstampedManifest(dir);
    let previous = indexed?.digest ?? null;
    let results = resultsStamp(dir, previous?.results ?? null);
    let key = hashOf(claimsHash, manifestStamp.sha256, results?.sha256 ?? 'no results');
    if (previous === null || previous.key !== key) {
      // Not in the index (a new run, a moved directory): the run's own cache file, found by its id.
      let runId: unknown = null;
      try {
        runId = (
          JSON.parse(readRegularFile(join(dir, MANIFEST_FILE), { maxBytes: MANIFEST_MAX_BYTES, within: dir })) as {
            runId?: unknown;
          }
        ).runId;
      } catch {
        // Not JSON: parsing the manifest below says so, with the file's name.
      }
      previous =
        typeof runId === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId)
          ? readDigest<RunDigest>(join(siteDir, runCachePath(runId)), null)
          : null;
      results = resultsStamp(dir, previous?.results ?? null);
      key = hashOf(claimsHash, manifestStamp.sha256, results?.sha256 ?? 'no results');
    }
    const cached = previous !== null && previous.key === key ? previous : null;
    stamps.set(dir, { dirKey, manifest: manifestStamp });
    if (cached)
      return {
        dir,
        key,
        results,
        cached,
        runId: cached.history.runId,
        createdAt: cached.history.createdAt,
        plan: cached.history.plan,
        testbed: cached.history.testbed,
      };
    const manifest = parseManifest(
      readRegularFile(join(dir, MANIFEST_FILE), { maxBytes: MANIFEST_MAX_BYTES, within: dir }),
      join(dir, MANIFEST_FILE),
    );
    return {
      dir,
      key,
      results,
      cached: null,
      runId: manifest.runId,
      createdAt: manifest.createdAt,
      plan: manifest.plan?.name ?? '?',
      testbed: testbedOf(manifest),
    };
  });
  const seen = new Map<string, string>();
  for (const { dir, runId } of scanned) {
    checkRunId(runId);
    const earlier = seen.get(runId);
    if (earlier !== undefined) throw new Error(`run id ${runId} appears twice: in ${earlier} and in ${dir}`);
    seen.set(runId, dir);
  }
  const pairable = scanned.map(({ runId, createdAt, plan, testbed }) => ({ runId, createdAt, plan, testbed }));
  const pairs = sitePairs(
    pairable,
    parseDiffPairs(
      options.diffs ?? [],
      pairable.map((r) => r.runId),
    ),
  );
  const pickerHref = scanned.length > 1 ? PICKER_PATH : undefined;
  const builtInLinks = compareLinksFor(pairs);
  const byId = new Map(scanned.map((r) => [r.runId, r]));
  const digests = new Map<string, RunDigest>();
  // By "a\nb": a result from a worker carries a copy of its pair, not the pair itself.
  const diffDigests = new Map<string, DiffDigest>();
  const pairKey = (p: RunPair) => `${p.a}\n${p.b}`;

  // 2. The jobs: runs whose key or page links changed (or whose page is gone), in time order, each
  // followed by the diffs whose later run it is; diffs whose runs' keys changed.
  const inTime = [...scanned].sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.runId.localeCompare(y.runId));
  const timeIndex = new Map(inTime.map((r, i) => [r.runId, i]));
  const diffsAfter = new Map<number, RunPair[]>();
  for (const pair of pairs) {
    const later = Math.max(timeIndex.get(pair.a)!, timeIndex.get(pair.b)!);
    diffsAfter.set(later, [...(diffsAfter.get(later) ?? []), pair]);
  }
  const jobs: Job[] = [];
  const building = new Set<string>();
  const linksByRun = diffLinksByRun(pairs);
  inTime.forEach((scan, i) => {
    const links = linksByRun.get(scan.runId) ?? [];
    const pageKey = hashOf(scan.key, JSON.stringify(links), pickerHref ?? '');
    if (scan.cached && scan.cached.pageKey === pageKey && existsSync(join(siteDir, runPagePath(scan.runId))))
      digests.set(scan.runId, scan.cached);
    else {
      building.add(scan.runId);
      jobs.push({
        kind: 'run',
        dir: scan.dir,
        runId: scan.runId,
        key: scan.key,
        pageKey,
        results: scan.results,
        links,
        pickerHref,
      });
    }
    for (const pair of diffsAfter.get(i) ?? []) {
      const [a, b] = [byId.get(pair.a)!, byId.get(pair.b)!];
      const key = hashOf(SITE_CACHE_VERSION, a.key, b.key, JSON.stringify(diffOptions), renderSvgs ? 'render' : 'none');
      const cached = readDigest<DiffDigest>(join(siteDir, diffCachePath(pair)), key);
      if (cached && existsSync(join(siteDir, diffPagePath(pair.a, pair.b)))) diffDigests.set(pairKey(pair), cached);
      else
        jobs.push({
          kind: 'diff',
          pair,
          dirA: a.dir,
          dirB: b.dir,
          key,
          claimsA: a.cached?.claims ?? null,
          claimsB: b.cached?.claims ?? null,
        });
    }
  });

  // 3. The jobs done: on worker threads when there are many (each a contiguous stretch in time, so
  // a diff's runs are mostly at hand), else here.
  const context: JobContext = { siteDir, claims: options.claims, diffOptions, renderSvgs };
  const onResult = (r: JobResult) => {
    written += r.written;
    rendered += r.rendered;
    if (r.kind === 'run') digests.set(r.runId, r.digest);
    else diffDigests.set(pairKey(r.pair), r.digest);
    log(r.message);
  };
  const workers = options.render ? 1 : Math.max(1, options.workers ?? availableParallelism());
  if (workers > 1 && building.size >= WORKER_THRESHOLD) {
    const size = Math.ceil(jobs.length / workers);
    const chunks = Array.from({ length: workers }, (_, i) => jobs.slice(i * size, (i + 1) * size)).filter(
      (c) => c.length > 0,
    );
    await doOnWorkers(context, chunks, onResult);
  } else {
    // Few runs: this thread, with the render pool when there is much to draw.
    let pool: RenderPool | null = null;
    const render =
      options.render ??
      (renderSvgs && workers > 1 && jobs.length > 1
        ? (spec: TopLevelSpec) => (pool ??= createRenderPool(workers)).render(spec)
        : undefined);
    try {
      const runner = localRunner(context, render);
      for (const job of jobs) onResult(await runner.do(job));
    } finally {
      if (pool) await (pool as RenderPool).close();
    }
  }

  // 4. The pages made of every run: index with the history overview, history pages, pair page, picker.
  const digestOf = (runId: string) => digests.get(runId)!;
  const runs: SiteRun[] = scanned.map((s) => ({
    runId: s.runId,
    dir: s.dir,
    claims: digestOf(s.runId).claims,
    pagePath: join(siteDir, runPagePath(s.runId)),
  }));
  const entries = scanned.map((s) => ({
    ...digestOf(s.runId).entry,
    compareLinks: [...(builtInLinks.get(s.runId) ?? []), ...(options.compareLinks?.get(s.runId) ?? [])],
  }));
  for (const page of options.extraPages ?? []) if (writeUnder(siteDir, page.path, renderPage(page))) written++;
  if (
    pickerHref &&
    writeUnder(
      siteDir,
      PICKER_PATH,
      renderPage(pickerPage({ runs: pairable, pairs, command: options.command ?? null })),
    )
  )
    written++;
  const marks: HistoryMark[] = [];
  const changes: ChangeEntry[] = [];
  for (const pair of pairs) {
    if (pair.kind !== 'requested' && comparable(digestOf(pair.a).history, digestOf(pair.b).history)) {
      const digest = diffDigests.get(pairKey(pair))!;
      marks.push(...digest.marks);
      const side = (runId: string) => ({ runId, createdAt: digestOf(runId).history.createdAt });
      changes.push({
        a: side(pair.a),
        b: side(pair.b),
        diffPath: diffPagePath(pair.a, pair.b),
        regressed: digest.regressed,
        improved: digest.improved,
        marks: digest.marks,
      });
    }
  }
  const history = { runs: scanned.map((s) => digestOf(s.runId).history), marks };
  for (const metric of HEADLINE_METRICS) {
    const page = historyPage(history, metric);
    if (writeUnder(siteDir, page.path, renderPage(page))) written++;
  }
  if (
    writeUnder(
      siteDir,
      PAIRS_PATH,
      renderPage(pairsPage(scanned.map((s) => ({ ...digestOf(s.runId).history, claims: digestOf(s.runId).claims })))),
    )
  )
    written++;
  const indexPath = join(siteDir, 'index.html');
  if (writeUnder(siteDir, REGRESSIONS_PATH, renderPage(regressionsPage(changes)))) written++;
  if (writeUnder(siteDir, FEED_PATH, atomFeed(changes))) written++;
  if (
    writeUnder(
      siteDir,
      'index.html',
      renderPage(
        indexPage(entries, pickerHref, scanned.length ? overviewHtml(history) : null, PAIRS_PATH, REGRESSIONS_PATH),
      ),
    )
  )
    written++;
  const diffs: SiteDiff[] = pairs.map((pair) => ({
    pair,
    pagePath: join(siteDir, diffPagePath(pair.a, pair.b)),
    regressed: diffDigests.get(pairKey(pair))!.regressed,
    improved: diffDigests.get(pairKey(pair))!.improved,
  }));
  const indexed: [string, CacheIndex['runs'][string]][] = scanned.map((r) => [
    stamps.get(r.dir)!.dirKey,
    { manifest: stamps.get(r.dir)!.manifest, digest: digestOf(r.runId) },
  ]);
  const index: CacheIndex = {
    version: SITE_CACHE_VERSION,
    runs: Object.fromEntries(indexed.sort(([x], [y]) => x.localeCompare(y))),
  };
  if (writeUnder(siteDir, CACHE_INDEX, `${JSON.stringify(index)}\n`)) written++;
  const diffsBuilt = jobs.filter((j) => j.kind === 'diff').length;
  return { indexPath, runs, diffs, written, rendered, runsBuilt: building.size, diffsBuilt };
}
