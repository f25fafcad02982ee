#!/usr/bin/env node
// Report benchmark: prints how long it takes to analyse and render the full report of a large
// synthetic run (4 environments, the paper plan, 10 replicates) and to build a site of 100 runs.
// Targets (issue 4): under 2 s and under 20 s on a 2-core machine. Figures only, no assertions.
// 2b. The history (issue 15): a site of 1000 synthetic runs built from scratch, then one run added
//    to it. Targets: under 60 s and under 3 s on a 2-core machine. The site is built with
//    svg 'none' (no SVG fallbacks rendered: rendering is ~50 ms a chart, 13 per run and 8 per diff,
//    far beyond a minute for a thousand runs); the charts are drawn in the browser.
// 3. The committed reproductions (reports/runs/): each one's wall time over its sessions and the
//    precision it reached per environment (target for the paper plan: median <= 1%, worst <= 3%,
//    four environments in at most 45 minutes). These were measured when the run was made; this
//    prints them from the run, it does not measure again.
// Usage: node scripts/bench-report.ts [--runs N] [--history-runs N] [--only history]

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPlan } from '../actions/lib/plan/plan-file.ts';
import { summarizePoints } from '../actions/lib/analyse/aggregate.ts';
import { precisionLines, precisionReached } from '../actions/lib/analyse/precision.ts';
import { loadRun } from '../actions/lib/measure/run-dir.ts';
import { loadClaims } from '../actions/lib/analyse/claims/file.ts';
import { buildReportFiles } from '../actions/lib/report/report.ts';
import { buildSite } from '../actions/lib/site/build.ts';
import { syntheticRun } from '../actions/lib/testing/synthetic.ts';
import { PLANS_DIR, REPO_DIR } from './cli/common.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100' },
    'history-runs': { type: 'string', default: '1000' },
    only: { type: 'string' },
  },
});
const siteRuns = Number(values.runs);
const historyRuns = Number(values['history-runs']);
const only = values.only ?? null;
const { plan } = loadPlan('paper', PLANS_DIR);
const claims = loadClaims('paper', PLANS_DIR);
const ALL = ['native', 'docker', 'kvm', 'osv'];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

console.log(
  `bench-report: ${availableParallelism()} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (other work on the machine inflates these figures)`,
);

/** The history bench's runs: the paper plan, 3 replicates, 1-4 environments in turn, one run an hour, every third run on a second runner pair. */
function writeHistoryRun(root: string, i: number): string {
  const run = syntheticRun({
    plan,
    environments: ALL.slice(0, 1 + (i % 4)),
    replicates: 3,
    seed: 5000 + i,
    runId: `history-${String(i).padStart(4, '0')}`,
    runnerPair: i % 3 === 2 ? 'second' : null,
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 3600_000).toISOString(),
  });
  const dir = join(root, 'runs', run.manifest.runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(run.manifest));
  writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

if (only === 'history') {
  await historyBench();
  process.exit(0);
}

// 1. One large run, in memory: analysis (summaries, claims, tables) + every chart rendered to SVG.
const big = syntheticRun({ plan, environments: ALL, replicates: 10, seed: 42 });
// Warm-up with another run so module loading and JIT are not counted (the CLI pays them once).
await buildReportFiles(
  syntheticRun({ plan, environments: ['native'], replicates: 2, seed: 1 }).manifest,
  syntheticRun({ plan, environments: ['native'], replicates: 2, seed: 1 }).records,
  claims,
);
let t = performance.now();
const files = await buildReportFiles(big.manifest, big.records, claims);
const reportMs = performance.now() - t;
console.log(
  `report of one run (4 environments, paper plan, 10 replicates, ${big.records.length} records): ${seconds(reportMs)} (${files.length} files; target < 2 s)`,
);

// 2. A site of N runs from run directories on disk: cold (every SVG rendered), then warm (unchanged).
const work = mkdtempSync(join(tmpdir(), 'virtnet-bench-report-'));
try {
  const dirs: string[] = [];
  for (let i = 0; i < siteRuns; i++) {
    const envs = ALL.slice(0, 1 + (i % 4));
    const run = syntheticRun({
      plan,
      environments: envs,
      replicates: 3,
      seed: 100 + i,
      runId: `bench-${String(i).padStart(3, '0')}`,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 3600_000).toISOString(),
    });
    const dir = join(work, 'runs', run.manifest.runId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(run.manifest));
    writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    dirs.push(dir);
  }
  const site = join(work, 'site');
  t = performance.now();
  const cold = await buildSite(dirs, site, { claims });
  const coldMs = performance.now() - t;
  console.log(
    `site of ${siteRuns} runs (1-4 environments, paper plan, 3 replicates), cold: ${seconds(coldMs)} (${cold.rendered} charts rendered, ${cold.written} files; target < 20 s)`,
  );
  t = performance.now();
  const warm = await buildSite(dirs, site, { claims });
  console.log(
    `site of ${siteRuns} runs, rebuilt unchanged: ${seconds(performance.now() - t)} (${warm.rendered} charts rendered, ${warm.written} files written)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

await historyBench();

async function historyBench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'virtnet-bench-history-'));
  try {
    const dirs: string[] = [];
    for (let i = 0; i < historyRuns; i++) dirs.push(writeHistoryRun(root, i));
    const site = join(root, 'site');
    const shape = `paper plan, 3 replicates, 1-4 environments, 2 testbeds; svg 'none'`;
    let t0 = performance.now();
    let cpu = process.cpuUsage();
    const cold = await buildSite(dirs, site, { claims, svg: 'none' });
    const cpuOf = (c: NodeJS.CpuUsage) => `${((c.user + c.system) / 1e6).toFixed(1)} s CPU`;
    console.log(
      `history site of ${historyRuns} runs (${shape}), from scratch: ${seconds(performance.now() - t0)} (${cpuOf(process.cpuUsage(cpu))}; ${cold.runsBuilt} runs and ${cold.diffsBuilt} diffs built, ${cold.written} files; target < 60 s)`,
    );
    const added = writeHistoryRun(root, historyRuns);
    t0 = performance.now();
    cpu = process.cpuUsage();
    const more = await buildSite([...dirs, added], site, { claims, svg: 'none' });
    console.log(
      `history site: one run added to ${historyRuns}: ${seconds(performance.now() - t0)} (${cpuOf(process.cpuUsage(cpu))}; ${more.runsBuilt} runs and ${more.diffsBuilt} diffs built, ${more.written} files written; target < 3 s)`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// 3. The committed reproductions: wall time and precision reached, as recorded.
const committed = join(REPO_DIR, 'reports', 'runs');
for (const name of readdirSync(committed).sort()) {
  const run = loadRun(join(committed, name));
  const { manifest } = run;
  const wallSeconds = manifest.sessions.reduce(
    (sum, s) => sum + (s.endedAt ? (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000 : 0),
    0,
  );
  const minutes = `${Math.floor(wallSeconds / 60)} min ${Math.round(wallSeconds % 60)} s`;
  const delay = manifest.link?.oneWayDelayMicroseconds
    ? `${manifest.link.oneWayDelayMicroseconds} us delay`
    : 'no delay line';
  console.log(
    `committed run ${manifest.runId} (plan ${manifest.plan.name}, ${manifest.environments.join(',')}, ${delay}): ${run.results.records.length} measurements in ${minutes} over ${manifest.sessions.length} session(s) (target for four environments: <= 45 min)`,
  );
  for (const line of precisionLines(
    precisionReached(summarizePoints(run.results.records), manifest.environments),
    manifest.plan.precision?.halfWidthPercent ?? null,
  ))
    console.log(`  ${line}`);
}
