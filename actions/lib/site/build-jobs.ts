// The site build's per-run and per-diff work (read, analyse, draw, write), done in this thread or on
// worker threads (build-worker.ts): a job carries only plain data (paths, keys, links), so either
// place writes the same bytes. What a job returns is its digest, the small part of its result the
// index, the history and the pair page need, which the build also keeps in the site's cache.

import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import { headlineMetrics } from '../analyse/headline.ts';
import { loadRun, MANIFEST_FILE, RESULTS_FILE, RUN_FILE_MAX_BYTES, type LoadedRun } from '../measure/run-dir.ts';
import { readRegularBytes } from '../core/safe-read.ts';
import type { ReportFile } from '../report/report.ts';
import { analyseRun } from '../analyse/run.ts';
import { renderSvg } from '../report/render.ts';
import { dirUnder, writeUnder } from '../core/output-dir.ts';
import { diffRuns, type DiffOptions } from '../diff/diff.ts';
import { formatDiffJson, formatDiffMarkdown, formatDiffText } from '../diff/format.ts';
import { diffDir, diffPagePath, diffSitePage, type RunPair } from './diff-pages.ts';
import { diffMarks, historyRun, type HistoryMark, type HistoryRun } from './history.ts';
import { renderAnalysedReport, writeReportFiles } from '../report/report-files.ts';
import { checkRunId } from '../core/file-names.ts';
import { indexEntry, renderPage, runPage, type IndexEntry, type Link } from './site.ts';

/** What the site keeps of a claim judged on a run: the pair page, diffs and the CLI's verdict lines need no more (the evidence is on the run page). */
export type Verdict = Pick<ClaimResult, 'id' | 'text' | 'verdict' | 'qualifier' | 'onlyTcg'>;

export function verdictsOf(claims: readonly ClaimResult[]): Verdict[] {
  return claims.map(({ id, text, verdict, qualifier, onlyTcg }) => ({
    id,
    text,
    verdict,
    qualifier,
    onlyTcg: onlyTcg ?? false,
  }));
}

/** The cache's format: raised when a digest's shape changes (a change of the code is caught by build.ts codeFingerprint). */
export const SITE_CACHE_VERSION = 'virtnet-site-cache-3';

/** A file's hash with the facts it was taken at: while they are the same, the file is not read again (as git's index does). */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

export interface RunDigest {
  version: string;
  key: string;
  pageKey: string;
  /** results.jsonl as hashed into key (null: no results file). */
  results: FileStamp | null;
  entry: IndexEntry;
  claims: Verdict[];
  history: HistoryRun;
}

export interface DiffDigest {
  version: string;
  key: string;
  regressed: number;
  improved: number;
  marks: HistoryMark[];
}

export interface JobContext {
  siteDir: string;
  claims: ClaimsFile;
  diffOptions: DiffOptions;
  /** Render SVGs with no cached copy (else the chart is drawn in the browser only). */
  renderSvgs: boolean;
}

export interface RunJob {
  kind: 'run';
  dir: string;
  runId: string;
  key: string;
  pageKey: string;
  results: FileStamp | null;
  links: Link[];
  pickerHref: string | undefined;
}

export interface DiffJob {
  kind: 'diff';
  pair: RunPair;
  dirA: string;
  dirB: string;
  key: string;
  /** Claims of a side whose run is not built by this job's runner (from the cache), when known. */
  claimsA: Verdict[] | null;
  claimsB: Verdict[] | null;
}

export type Job = RunJob | DiffJob;

export type JobResult =
  | { kind: 'run'; runId: string; digest: RunDigest; written: number; rendered: number; message: string }
  | { kind: 'diff'; pair: RunPair; digest: DiffDigest; written: number; rendered: number; message: string };

export function runCachePath(runId: string): string {
  return `cache/runs/${checkRunId(runId)}.json`;
}

export function diffCachePath(pair: RunPair): string {
  return `cache/${diffDir(pair.a, pair.b)}.json`;
}

/** Does jobs one after another; keeps the last runs it read, for the diffs that follow them. */
export class JobRunner {
  readonly #recent = new Map<string, { run: LoadedRun; claims: Verdict[] }>();
  readonly #claims = new Map<string, Verdict[]>();

  private readonly context: JobContext;
  private readonly render: ((spec: TopLevelSpec) => Promise<string>) | null;

  constructor(context: JobContext, render: ((spec: TopLevelSpec) => Promise<string>) | null) {
    this.context = context;
    this.render = render;
  }

  #remember(runId: string, value: { run: LoadedRun; claims: Verdict[] }): void {
    this.#recent.delete(runId);
    this.#recent.set(runId, value);
    this.#claims.set(runId, value.claims);
    if (this.#recent.size > 16) this.#recent.delete(this.#recent.keys().next().value!);
  }

  #loaded(runId: string, dir: string, known: Verdict[] | null): { run: LoadedRun; claims: Verdict[] } {
    const hit = this.#recent.get(runId);
    if (hit) return hit;
    const run = loadRun(dir);
    const claims =
      known ??
      this.#claims.get(runId) ??
      verdictsOf(analyseRun(run.manifest, run.results.records, this.context.claims, run.results.probes).claims);
    const value = { run, claims };
    this.#remember(runId, value);
    return value;
  }

  async do(job: Job): Promise<JobResult> {
    return job.kind === 'run' ? this.#run(job) : this.#diff(job);
  }

  async #run(job: RunJob): Promise<JobResult> {
    const { siteDir } = this.context;
    const runId = job.runId;
    let written = 0;
    const run = loadRun(job.dir);
    if (run.manifest.runId !== runId)
      throw new Error(`${job.dir}: its run id changed while the site was built (${runId} -> ${run.manifest.runId})`);
    const outDir = dirUnder(siteDir, `runs/${checkRunId(runId)}`);
    const analysis = analyseRun(run.manifest, run.results.records, this.context.claims, run.results.probes);
    const report = await renderAnalysedReport(run.manifest, analysis, this.render);
    written += writeReportFiles(outDir, report.files);
    if (resolve(job.dir) !== resolve(outDir)) {
      for (const f of [MANIFEST_FILE, RESULTS_FILE]) {
        const src = join(job.dir, f);
        if (
          existsSync(src) &&
          writeUnder(outDir, f, readRegularBytes(src, { maxBytes: RUN_FILE_MAX_BYTES[f]!, within: job.dir }))
        )
          written++;
      }
    }
    const page = runPage({
      ...report,
      diffLinks: job.links,
      pickerHref: job.pickerHref && `../../${job.pickerHref}`,
      noSvg: report.noSvg,
    });
    if (writeUnder(siteDir, page.path, renderPage(page))) written++;
    const entry = indexEntry(run.manifest, analysis.claims, analysis.environments);
    const roundTrips = Object.fromEntries(
      Object.entries(analysis.roundTrips).map(([e, rt]) => [e, rt.tcpMicroseconds]),
    );
    const digest: RunDigest = {
      version: SITE_CACHE_VERSION,
      key: job.key,
      pageKey: job.pageKey,
      results: job.results,
      entry,
      claims: verdictsOf(analysis.claims),
      history: historyRun(run.manifest, headlineMetrics(analysis.points, roundTrips)),
    };
    if (writeUnder(siteDir, runCachePath(runId), `${JSON.stringify(digest)}\n`)) written++;
    this.#remember(runId, { run, claims: digest.claims });
    return {
      kind: 'run',
      runId,
      digest,
      written,
      rendered: report.rendered,
      message: `  site: run ${runId} (${report.rendered} charts rendered${report.noSvg.size ? `, ${report.noSvg.size} without SVG` : ''})`,
    };
  }

  async #diff(job: DiffJob): Promise<JobResult> {
    const { siteDir } = this.context;
    const { pair } = job;
    const ra = this.#loaded(pair.a, job.dirA, job.claimsA);
    const rb = this.#loaded(pair.b, job.dirB, job.claimsB);
    const diff = diffRuns(
      { label: pair.a, manifest: ra.run.manifest, records: ra.run.results.records, verdicts: ra.claims },
      { label: pair.b, manifest: rb.run.manifest, records: rb.run.results.records, verdicts: rb.claims },
      this.context.diffOptions,
    );
    const outDir = dirUnder(siteDir, diffDir(pair.a, pair.b));
    const files: ReportFile[] = [
      { path: 'diff.json', content: formatDiffJson(diff) },
      { path: 'diff.md', content: formatDiffMarkdown(diff) },
      { path: 'diff.txt', content: formatDiffText(diff) },
    ];
    let page = diffSitePage(diff, { a: ra.run.manifest, b: rb.run.manifest });
    let rendered = 0;
    const noSvg = new Set<string>();
    for (const chart of page.charts) {
      const specText = `${JSON.stringify(chart.spec, null, 2)}\n`;
      const svgPath = `charts/${chart.id}.svg`;
      // Drawn from the spec, never taken from the directory (report/report-files.ts says why);
      // without rendering, as for a run's charts, a chart without an SVG has its spec in the page only.
      const svg = this.render ? await this.render(chart.spec) : null;
      if (svg !== null) rendered++;
      if (svg === null) noSvg.add(chart.id);
      else files.push({ path: chart.specPath, content: specText }, { path: svgPath, content: svg });
    }
    if (noSvg.size) page = diffSitePage(diff, { a: ra.run.manifest, b: rb.run.manifest }, noSvg);
    let written = writeReportFiles(outDir, files);
    if (writeUnder(siteDir, page.path, renderPage(page))) written++;
    const digest: DiffDigest = {
      version: SITE_CACHE_VERSION,
      key: job.key,
      regressed: diff.summary.regressed,
      improved: diff.summary.improved,
      marks: diffMarks(diff, diffPagePath(pair.a, pair.b)),
    };
    if (writeUnder(siteDir, diffCachePath(pair), `${JSON.stringify(digest)}\n`)) written++;
    return {
      kind: 'diff',
      pair,
      digest,
      written,
      rendered,
      message: `  site: diff ${pair.a} -> ${pair.b} (${rendered} charts rendered${noSvg.size ? `, ${noSvg.size} without SVG` : ''})`,
    };
  }
}

/** A JobRunner of this thread, rendering with `render` (or renderSvg), or not at all. */
export function localRunner(context: JobContext, render?: (spec: TopLevelSpec) => Promise<string>): JobRunner {
  return new JobRunner(context, context.renderSvgs ? (render ?? renderSvg) : null);
}

/**
 * Does the chunks of jobs on one worker thread each (jobs in a chunk in order), reporting each result
 * as it comes. A chunk whose worker cannot start (a bundled action has no worker file) or that fails
 * is finished in this thread, from its first job without a result: a job that failed on a worker
 * fails again here, with its own error.
 */
export async function doOnWorkers(
  context: JobContext,
  chunks: readonly Job[][],
  onResult: (r: JobResult) => void,
): Promise<void> {
  const local = localRunner(context);
  await Promise.all(
    chunks.map(async (chunk) => {
      let done = 0;
      await new Promise<void>((resolveChunk) => {
        let worker: Worker;
        try {
          worker = new Worker(new URL('./build-worker.ts', import.meta.url), { workerData: { context, jobs: chunk } });
        } catch {
          resolveChunk();
          return;
        }
        let settled = false;
        const finish = () => {
          if (settled) return;
          settled = true;
          void worker.terminate();
          resolveChunk();
        };
        worker.on('message', (m: { result?: JobResult; error?: string; end?: true }) => {
          if (m.result) {
            done++;
            onResult(m.result);
          } else finish();
        });
        worker.on('error', finish);
        worker.on('exit', finish);
      });
      for (const job of chunk.slice(done)) onResult(await local.do(job));
    }),
  );
}
