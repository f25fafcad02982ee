// Bench (j), interference detection: the same plan on native and docker twice, once left alone and
// once while the bench itself disturbs the machine at known times (busy loops on both cores; one
// busy loop pinned to the core the delay line runs on; a memory-bandwidth hog), then how well the
// run saw it: recall (measurements overlapping a disturbance that were flagged or re-measured),
// false flags (the others that were flagged) and each disturbed point's mean against the same
// point's interval in the undisturbed run. The scoring is pure (scoreDisturbances); the rest runs
// real processes.

import { join } from 'node:path';
import { loadavg } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mustRun, sleep } from '../actions/lib/core/proc.ts';
import { executeRun, localHosts } from '../actions/lib/measure/session.ts';
import { loadRun } from '../actions/lib/measure/run-dir.ts';
import { latestRecords, type MeasurementRecord } from '../actions/lib/measure/records.ts';
import { summarizePoints } from '../actions/lib/analyse/aggregate.ts';
import { precisionReached } from '../actions/lib/analyse/precision.ts';
import type { EnvironmentDriver } from '../actions/lib/measure/environment.ts';
import type { Plan } from '../actions/lib/plan/plan.ts';
import type { Testbed } from '../env/testbed/testbed.ts';
import { delayLineStats } from '../env/testbed/delay-line.ts';
import { parseProcessStat } from '../actions/lib/core/liveness.ts';
import { USER_HZ } from '../actions/lib/measure/cpu-cost.ts';
import { REPO_DIR } from './cli/common.ts';

/**
 * One disturbance the bench made: what, and when (epoch milliseconds) its processes existed: from
 * the kernel's start time of the first of them to when the last was gone after the bench ended it.
 * `requestedMs` is when the bench asked for it: starting a process takes up to half a second on a
 * machine whose CPUs the path and the disturbances keep busy, and a measurement that ended in that
 * gap overlapped no disturbance.
 */
export interface Disturbance {
  kind: string;
  startMs: number;
  endMs: number;
  requestedMs?: number;
}

export interface DisturbanceScore {
  overlapping: number;
  /** Of those overlapping a disturbance: flagged, or taken again (a later record of the task says why). */
  caught: number;
  others: number;
  /** Of those overlapping none: flagged. */
  falselyFlagged: number;
  recall: number | null;
  falseFlagRate: number | null;
  /** Per kind of disturbance: overlapping and caught. */
  byKind: Record<string, { overlapping: number; caught: number }>;
  /** The records behind the two rates' misses, for a closer look: overlapping and not caught (with what they overlapped), and flagged while overlapping none. */
  missed: { record: MeasurementRecord; kinds: string[]; overlapMs: number }[];
  falseFlags: MeasurementRecord[];
}

const span = (r: MeasurementRecord) => ({ start: Date.parse(r.startedAt), end: Date.parse(r.finishedAt) });
const taskOf = (r: MeasurementRecord) => `${r.environment}|${r.pointId}|${r.replicate}`;

/**
 * Scores a run against the disturbances made during it. Every ok record counts (re-measurements
 * too: a re-measurement that overlaps a disturbance must be caught as well). A record is caught
 * when it is flagged or when a later record of the same task was taken because of it.
 */
export function scoreDisturbances(
  records: readonly MeasurementRecord[],
  disturbances: readonly Disturbance[],
): DisturbanceScore {
  const ok = records.filter((r) => r.status === 'ok');
  const retaken = new Set<number>();
  ok.forEach((r, i) => {
    if (!r.remeasuredBecause) return;
    // The record this one replaced: the latest earlier ok record of the task.
    for (let j = i - 1; j >= 0; j--) {
      if (taskOf(ok[j]!) === taskOf(r)) {
        retaken.add(j);
        break;
      }
    }
  });
  const score: DisturbanceScore = {
    overlapping: 0,
    caught: 0,
    others: 0,
    falselyFlagged: 0,
    recall: null,
    falseFlagRate: null,
    byKind: {},
    missed: [],
    falseFlags: [],
  };
  ok.forEach((r, i) => {
    const { start, end } = span(r);
    const hits = disturbances.filter((d) => start < d.endMs && end > d.startMs);
    const flagged = r.interference?.flagged === true;
    if (hits.length === 0) {
      score.others++;
      if (flagged) {
        score.falselyFlagged++;
        score.falseFlags.push(r);
      }
      return;
    }
    const caught = flagged || retaken.has(i);
    score.overlapping++;
    if (caught) score.caught++;
    else
      score.missed.push({
        record: r,
        kinds: [...new Set(hits.map((d) => d.kind))],
        overlapMs: hits.reduce((sum, d) => sum + Math.min(end, d.endMs) - Math.max(start, d.startMs), 0),
      });
    for (const kind of new Set(hits.map((d) => d.kind))) {
      const k = (score.byKind[kind] ??= { overlapping: 0, caught: 0 });
      k.overlapping++;
      if (caught) k.caught++;
    }
  });
  score.recall = score.overlapping > 0 ? score.caught / score.overlapping : null;
  score.falseFlagRate = score.others > 0 ? score.falselyFlagged / score.others : null;
  return score;
}

/** Points with a record that overlapped a disturbance (key environment|pointId). */
export function disturbedPoints(
  records: readonly MeasurementRecord[],
  disturbances: readonly Disturbance[],
): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    const { start, end } = span(r);
    if (disturbances.some((d) => start < d.endMs && end > d.startMs)) out.add(`${r.environment}|${r.pointId}`);
  }
  return out;
}

// ---- the disturbances, as real processes ------------------------------------------------------

const BUSY = ['sh', '-c', 'while :; do :; done'];
/** Writes zeros over a 64 MiB buffer again and again: memory bandwidth, far beyond the caches. */
const MEMORY_HOG = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M'];

/** The CPU a process last ran on (field 39 of /proc/PID/stat), or 0. */
function lastCpu(pid: number | null): number {
  if (pid === null) return 0;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (parseProcessStat(text) === null) return 0;
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[36]) || 0;
  } catch {
    return 0;
  }
}

/** Epoch milliseconds of a kernel start time (ticks since boot, /proc/PID/stat field 22). */
function startTicksToEpochMs(startTicks: string): number {
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - uptimeSeconds * 1000 + (Number(startTicks) * 1000) / USER_HZ;
}

/** The children of `pid` (the process `timeout` runs: the disturbance's work) and their stat. */
function childrenOf(pid: number): { pid: number; state: string; startTicks: string }[] {
  const out: { pid: number; state: string; startTicks: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcessStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat?.ppid === pid) out.push({ pid: stat.pid, state: stat.state, startTicks: stat.startTicks });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/**
 * When the work of an orphan started: the kernel's start time of the child `timeout` runs, looked
 * for every 20 ms for at most 3 s; `timeout`'s own start time if it has none by then.
 */
async function workStartMs(timeoutPid: number): Promise<{ startMs: number; workPids: number[] }> {
  for (let i = 0; i < 150; i++) {
    const children = childrenOf(timeoutPid);
    if (children.length > 0)
      return {
        startMs: Math.min(...children.map((c) => startTicksToEpochMs(c.startTicks))),
        workPids: children.map((c) => c.pid),
      };
    await sleep(20);
  }
  const own = (() => {
    try {
      return parseProcessStat(readFileSync(`/proc/${timeoutPid}/stat`, 'utf8'));
    } catch {
      return null;
    }
  })();
  return { startMs: own ? startTicksToEpochMs(own.startTicks) : Date.now(), workPids: [timeoutPid] };
}

/** Waits, every 20 ms for at most 3 s, until every one of `pids` is gone (or a zombie); returns when. */
async function goneMs(pids: readonly number[]): Promise<number> {
  const alive = (pid: number) => {
    try {
      return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state !== 'Z';
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 150 && pids.some(alive); i++) await sleep(20);
  return Date.now();
}

/** What a disturbance runs: the processes, started now. */
function disturbanceProcesses(kind: string, delayLinePid: number | null): string[][] {
  if (kind === 'busy loops on both cores')
    return [
      ['taskset', '-c', '0', ...BUSY],
      ['taskset', '-c', '1', ...BUSY],
    ];
  if (kind === "a busy loop on the delay line's core")
    return [['taskset', '-c', String(lastCpu(delayLinePid)), ...BUSY]];
  return [MEMORY_HOG];
}

export const DISTURBANCE_KINDS = [
  'busy loops on both cores',
  "a busy loop on the delay line's core",
  'a memory-bandwidth hog',
] as const;

/**
 * Starts a disturbance's process the way another job's would run: the child of a shell that exits
 * at once, so it is reparented away from this process. A child of the bench would be the run's own
 * (the sampler counts this process's descendants as the measured path, not as others' time), and
 * the bench would score a detector that was never shown the disturbance. `timeout` bounds it even if
 * the bench dies; it is ended by the PID the shell printed, and `timeout` passes the signal on.
 */
async function startOrphan(argv: readonly string[], boundSeconds: number): Promise<number> {
  const r = await mustRun(['sh', '-c', 'timeout "$0" "$@" >/dev/null 2>&1 & echo $!', String(boundSeconds), ...argv], {
    timeoutMs: 5000,
  });
  const pid = Number(r.stdout.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`bench (j): no PID for ${argv.join(' ')}: ${r.stdout}`);
  return pid;
}

function endOrphan(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already ended by its own timeout.
  }
}

/**
 * Makes the disturbances in turn, `onSeconds` each with `offSeconds` of quiet before each, until
 * `stop` is aborted; every process is ours, stopped by PID. Returns what it made, with times.
 */
async function disturb(
  stop: AbortSignal,
  delayLinePid: number | null,
  onSeconds: number,
  offSeconds: number,
): Promise<Disturbance[]> {
  const made: Disturbance[] = [];
  for (let i = 0; !stop.aborted && i < 10_000; i++) {
    await sleep(offSeconds * 1000, stop).catch(() => {});
    if (stop.aborted) break;
    const kind = DISTURBANCE_KINDS[i % DISTURBANCE_KINDS.length]!;
    const pids: number[] = [];
    const work: number[] = [];
    const requestedMs = Date.now();
    let startMs = Number.POSITIVE_INFINITY;
    try {
      for (const argv of disturbanceProcesses(kind, delayLinePid)) {
        const pid = await startOrphan(argv, onSeconds + 5);
        pids.push(pid);
        const started = await workStartMs(pid);
        startMs = Math.min(startMs, started.startMs);
        work.push(...started.workPids);
      }
      await sleep(onSeconds * 1000, stop).catch(() => {});
    } finally {
      pids.forEach(endOrphan);
      const endMs = await goneMs([...pids, ...work]);
      made.push({ kind, startMs: Number.isFinite(startMs) ? startMs : requestedMs, endMs, requestedMs });
    }
  }
  return made;
}

// ---- the bench -------------------------------------------------------------------------------

export interface InterferenceBenchContext {
  index: number;
  testbed: Testbed;
  work: string;
  drivers: EnvironmentDriver[];
  plan: Plan;
  onSeconds: number;
  offSeconds: number;
  /** Only the disturbed run: its recall and precision, without the undisturbed run to compare with (half the time). */
  disturbedOnly?: boolean;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

async function runOnce(ctx: InterferenceBenchContext, name: string, disturbed: boolean) {
  const outDir = join(ctx.work, name);
  const stop = new AbortController();
  const delayLinePid = ctx.testbed.delayLinePid;
  const disturbances = disturbed
    ? disturb(stop.signal, delayLinePid, ctx.onSeconds, ctx.offSeconds)
    : Promise.resolve([]);
  const started = performance.now();
  const load = [loadavg()[0]!];
  try {
    await executeRun({
      outDir,
      plan: ctx.plan,
      planSource: 'bench',
      resume: false,
      environments: ctx.drivers,
      serverAddress: ctx.testbed.layout.serverAddress,
      hosts: localHosts(ctx.testbed.clientPrefix),
      link: ctx.testbed.link,
      settings: { accel: 'auto', testbedIndex: String(ctx.index) },
      readyTimeoutMs: 60_000,
      repoDir: REPO_DIR,
      signal: new AbortController().signal,
      onEvent: () => {},
      ownPids: () => (delayLinePid === null ? [] : [delayLinePid]),
      linkReleases: async () => {
        const s = delayLinePid === null ? null : await delayLineStats(ctx.index);
        return s === null ? null : { released: s.released, late: s.lateAtLeast100Us };
      },
    });
  } finally {
    stop.abort();
  }
  load.push(loadavg()[0]!);
  const made = await disturbances;
  // Beside the run, for a closer look at a kept run (--keep): what was made, and when.
  if (disturbed) writeFileSync(join(outDir, 'disturbances.json'), `${JSON.stringify(made, null, 1)}\n`);
  return { run: loadRun(outDir), made, seconds: (performance.now() - started) / 1000, load };
}

/** Each environment's median and worst 95% half-width, in a line. */
function precisionOf(run: ReturnType<typeof loadRun>): string {
  return precisionReached(summarizePoints(run.results.records), run.manifest.environments)
    .map(
      (q) =>
        `${q.environment} median ${q.medianHalfWidthPercent?.toFixed(2) ?? 'n/a'}% worst ${q.worstHalfWidthPercent?.toFixed(2) ?? 'n/a'}% (${q.worstPoint ?? 'none'})`,
    )
    .join('; ');
}

/** What the detector saw of one measurement, in a line. */
function seen(r: MeasurementRecord): string {
  const i = r.interference;
  if (!i) return 'no interference on record';
  const top = (w: Record<string, number> | undefined) =>
    Object.entries(w ?? {})
      .sort(([, a], [, b]) => b - a)
      .slice(0, 2)
      .map(([k, v]) => `${k} ${v}%`)
      .join(', ') || 'none';
  return `others ${i.othersBusyPercent}% (stretch ${i.peak?.othersBusyPercent ?? '-'}%), steal ${i.stealPercent}%, wait ${top(i.waitPercent)} (stretch ${top(i.peak?.waitPercent)}), late ${i.lateReleasePercent ?? '-'}%, ${r.metrics?.throughputMbps?.toFixed(1) ?? '-'} Mbit/s`;
}

/** Runs the bench and prints its figures. */
export async function benchInterference(ctx: InterferenceBenchContext): Promise<void> {
  const names = ctx.drivers.map((d) => d.name).join(',');
  console.log(
    `(j) interference detection on ${names}, plan ${ctx.plan.name} (${ctx.plan.sweeps.length} sweeps, ${ctx.plan.replicates} blocks, thresholds: others busy ${ctx.plan.interference.maxOthersBusyPercent}%, wait ${ctx.plan.interference.maxWaitPercent}%, worst stretch ${ctx.plan.interference.peakWindowMs ?? 'none'} ms, late releases ${ctx.plan.interference.maxLateReleasePercent}%, worst stretch's others ${ctx.plan.interference.maxPeakOthersBusyPercent ?? ctx.plan.interference.maxOthersBusyPercent}%, re-measured up to ${ctx.plan.interference.remeasureFlagged}x after up to ${ctx.plan.interference.retakeQuietSeconds} s waiting for a quiet host)`,
  );
  const quiet = ctx.disturbedOnly ? null : await runOnce(ctx, 'undisturbed', false);
  if (quiet)
    console.log(
      `    undisturbed run: ${quiet.run.results.records.length} records in ${quiet.seconds.toFixed(0)} s (load ${quiet.load.map((l) => l.toFixed(2)).join(' -> ')})`,
    );
  const noisy = await runOnce(ctx, 'disturbed', true);
  console.log(
    `    disturbed run: ${noisy.run.results.records.length} records in ${noisy.seconds.toFixed(0)} s (load ${noisy.load.map((l) => l.toFixed(2)).join(' -> ')}); ${noisy.made.length} disturbances of ${ctx.onSeconds} s, ${ctx.offSeconds} s apart`,
  );
  const precisionTarget = noisy.run.manifest.plan.precision;
  console.log(
    `    disturbed run's precision: ${precisionOf(noisy.run)} (plan's target ${precisionTarget ? `${precisionTarget.halfWidthPercent}%, at most ${precisionTarget.maxReplicates} blocks within ${precisionTarget.budgetMinutes ?? 'no'} extra minutes per environment` : 'none'}; the README's: median 1%, worst 3%)`,
  );

  const quietScore = quiet ? scoreDisturbances(quiet.run.results.records, []) : null;
  const score = scoreDisturbances(noisy.run.results.records, noisy.made);
  console.log(
    `    recall = ${pct(score.recall)} (${score.caught} of ${score.overlapping} measurements overlapping a disturbance flagged or re-measured; target >= 95%)`,
  );
  for (const [kind, k] of Object.entries(score.byKind)) console.log(`      ${kind}: ${k.caught} of ${k.overlapping}`);
  // How late the disturbances' processes started after the bench asked, and what counting from the
  // asking would have said: the measurements that ended in between overlapped no disturbance.
  const latencies = noisy.made
    .flatMap((d) => (d.requestedMs === undefined ? [] : [d.startMs - d.requestedMs]))
    .sort((a, b) => a - b);
  if (latencies.length > 0) {
    const fromRequest = scoreDisturbances(
      noisy.run.results.records,
      noisy.made.map((d) => ({ ...d, startMs: Math.min(d.startMs, d.requestedMs ?? d.startMs) })),
    );
    console.log(
      `      a disturbance's first process started ${latencies[Math.floor(latencies.length / 2)]!.toFixed(0)} ms (median), at most ${latencies.at(-1)!.toFixed(0)} ms, after the bench asked for it; counted from the asking, recall would read ${pct(fromRequest.recall)} (${fromRequest.caught} of ${fromRequest.overlapping})`,
    );
  }
  console.log(
    `    false flags = ${pct(score.falseFlagRate)} in the disturbed run (${score.falselyFlagged} of ${score.others} measurements overlapping none), ${quietScore ? `${pct(quietScore.falseFlagRate)} in the undisturbed run (${quietScore.falselyFlagged} of ${quietScore.others})` : 'the undisturbed run not made (--j-disturbed-only)'}; target <= 2%`,
  );

  // What the detector saw where it missed and where it cried wolf: the figures a threshold is set from.
  for (const { record, kinds, overlapMs } of score.missed)
    console.log(
      `      missed (${kinds.join(', ')}, ${overlapMs} ms of it): ${record.environment} ${record.pointId}: ${seen(record)}`,
    );
  for (const r of score.falseFlags) {
    const { start, end } = span(r);
    const gap = Math.min(...noisy.made.map((d) => Math.max(d.startMs - end, start - d.endMs)));
    console.log(
      `      false flag (${(gap / 1000).toFixed(1)} s from a disturbance): ${r.environment} ${r.pointId}: ${r.interference!.reasons.join('; ')}`,
    );
  }

  if (quiet === null) return;
  const reference = new Map(
    summarizePoints(latestRecords(quiet.run.results.records)).map((p) => [`${p.environment}|${p.pointId}`, p]),
  );
  const hit = disturbedPoints(noisy.run.results.records, noisy.made);
  let within = 0;
  let compared = 0;
  for (const p of summarizePoints(latestRecords(noisy.run.results.records))) {
    const key = `${p.environment}|${p.pointId}`;
    if (!hit.has(key)) continue;
    const ref = reference.get(key);
    if (!ref || ref.throughput.ciLow === null || ref.throughput.ciHigh === null || p.throughput.n === 0) {
      console.log(
        `      ${key}: no interval to compare with (undisturbed n ${ref?.throughput.n ?? 0}, disturbed n ${p.throughput.n})`,
      );
      continue;
    }
    compared++;
    const inside = p.throughput.mean >= ref.throughput.ciLow && p.throughput.mean <= ref.throughput.ciHigh;
    if (inside) within++;
    console.log(
      `      ${key.padEnd(44)} disturbed ${p.throughput.mean.toFixed(2)} (n ${p.throughput.n}, ${p.flagged} flagged out)  undisturbed ${ref.throughput.mean.toFixed(2)} [${ref.throughput.ciLow.toFixed(2)}, ${ref.throughput.ciHigh.toFixed(2)}]  ${inside ? 'within' : 'OUTSIDE'}`,
    );
  }
  console.log(`    disturbed points within the undisturbed interval: ${within} of ${compared} (target: all)`);
  console.log(`    undisturbed run's precision: ${precisionOf(quiet.run)}`);
  // The wait and lateness of the measurements the disturbances did not touch: what a threshold must stay above.
  const quietWaits = quiet.run.results.records
    .flatMap((r) => Object.values(r.interference?.waitPercent ?? {}))
    .sort((a, b) => a - b);
  const quietLate = quiet.run.results.records
    .flatMap((r) =>
      (r.interference?.lateReleasePercent ?? null) === null ? [] : [r.interference!.lateReleasePercent!],
    )
    .sort((a, b) => a - b);
  const q = (xs: number[], p: number) =>
    xs.length === 0 ? 'n/a' : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(1);
  const quietOthers = quiet.run.results.records
    .map((r) => r.interference?.othersBusyPercent ?? 0)
    .sort((a, b) => a - b);
  const quietPeakOthers = quiet.run.results.records
    .map((r) => r.interference?.peak?.othersBusyPercent ?? 0)
    .sort((a, b) => a - b);
  console.log(
    `    undisturbed run, others' busy time: whole p50 ${q(quietOthers, 0.5)}%, p95 ${q(quietOthers, 0.95)}%, max ${q(quietOthers, 1)}%; worst stretch p50 ${q(quietPeakOthers, 0.5)}%, p95 ${q(quietPeakOthers, 0.95)}%, max ${q(quietPeakOthers, 1)}%`,
  );
  console.log(
    `    undisturbed run, per process wait for a CPU: p50 ${q(quietWaits, 0.5)}%, p95 ${q(quietWaits, 0.95)}%, max ${q(quietWaits, 1)}%; late releases: p50 ${q(quietLate, 0.5)}%, p95 ${q(quietLate, 0.95)}%, max ${q(quietLate, 1)}%\n`,
  );
}
