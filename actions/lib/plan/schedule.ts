// The order of a run: which environment is live when, and which points it measures then. Pure.
//
// Blocked (the default for runs of several environments): replicate-major. Block b starts each
// environment in turn, measures every point once in a fresh seeded random order, and stops it.
// Host interference then falls on every environment alike instead of on whichever one happened to
// be live (environment-major runs all of one environment, then all of the next, so a two-minute
// disturbance reads as an environment effect). Comparisons pair the environments within a block.
//
// The order of environments within a block is a row of a Williams design (a balanced Latin
// square): over every n blocks of n environments (2n when n is odd) each environment runs in each
// position equally often and follows each other environment equally often, so neither a drift
// within a block nor the environment run just before favours one of them.
//
// Precision targets: after the plan's `replicates` blocks, only points whose 95% interval is still
// wider than the target get further blocks, up to `maxReplicates`: time goes where the noise is.
// A point that needs a further block in one environment gets it in every environment that has it,
// in the same block, so the comparisons stay paired block by block and the extra blocks interleave
// the environments instead of adding late measurements to one of them; and the extra blocks stop at
// the plan's time budget, the widest points first. Which points a block measures depends only on
// the blocks before it, so a resumed run asks for exactly what an uninterrupted one would have.

import { summarize } from '../core/stats.ts';
import type { Plan, Point, Task } from './plan.ts';
import { expandPoints } from './plan.ts';

export type Design = 'blocked' | 'environment-major';

export interface PrecisionTarget {
  /** The 95% interval's half-width, as a percentage of the point's mean, that ends measuring it. */
  halfWidthPercent: number;
  /** Blocks (replicates) a point may get at most. */
  maxReplicates: number;
  /** The most netperf time the blocks beyond `replicates` may add per environment, in minutes; null: no limit. */
  budgetMinutes?: number | null;
}

/** What the schedule needs of a plan (the plan's `design` and `precision` fields). */
export interface ScheduleSettings {
  design: Design;
  replicates: number;
  precision: PrecisionTarget | null;
  order: { randomize: boolean; seed: number };
  /** The length of one measurement: what the precision budget is counted in. */
  testLengthSeconds: number;
}

/** One environment's turn: start it, measure these tasks in this order, stop it. */
export interface EnvironmentTurn {
  environment: string;
  /** The block this turn belongs to (blocked design), or null (environment-major: all replicates). */
  block: number | null;
  tasks: Task[];
}

/** Throughput values measured so far: environment -> point id -> replicate -> value. */
export type MeasuredValues = ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<number, number>>>;

export function scheduleSettings(plan: Plan): ScheduleSettings {
  return {
    design: plan.design,
    replicates: plan.replicates,
    precision: plan.precision,
    order: plan.order,
    testLengthSeconds: plan.testLengthSeconds,
  };
}

/** The most blocks a point can get. */
export function maxReplicates(settings: Pick<ScheduleSettings, 'replicates' | 'precision'>): number {
  return Math.max(settings.replicates, settings.precision?.maxReplicates ?? 0);
}

/**
 * The rows of a Williams design for n items: a Latin square (each item once per row and once per
 * position) in which each item follows every other item equally often. For even n, n rows from the
 * first row 0, 1, n-1, 2, n-2, ... shifted by one per row; for odd n, those n rows and their mirror
 * images (2n rows). Item i stands for the i-th environment.
 */
export function williamsRows(n: number): number[][] {
  if (n <= 0) return [];
  const first: number[] = [0];
  for (let k = 1, low = 1, high = n - 1; k < n; k++) first.push(k % 2 === 1 ? low++ : high--);
  const rows = Array.from({ length: n }, (_, r) => first.map((x) => (x + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/** Block b's environment order: row b-1 of a Williams design, cycled, so the order is balanced over the blocks. */
export function environmentOrder(environments: readonly string[], block: number): string[] {
  const rows = williamsRows(environments.length);
  if (rows.length === 0) return [];
  return rows[(block - 1) % rows.length]!.map((i) => environments[i]!);
}

/** mulberry32: a tiny seeded PRNG, so a recorded seed reproduces the order exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A seed per environment and replicate (block), from the plan's seed: the order is reproducible. */
export function mixSeed(seed: number, environment: string, replicate: number): number {
  let h = seed >>> 0;
  for (const ch of `${environment}#${replicate}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function ordered(
  points: readonly Point[],
  settings: ScheduleSettings,
  environment: string,
  replicate: number,
): Point[] {
  return settings.order.randomize
    ? shuffled(points, mixSeed(settings.order.seed, environment, replicate))
    : points.slice();
}

/** The 95% half-width of a point's values as a percentage of their mean; Infinity with fewer than 2. */
export function halfWidthPercent(values: readonly number[]): number {
  const s = summarize(values);
  if (s.ciHalfWidth === null) return Number.POSITIVE_INFINITY;
  if (s.mean === 0) return s.ciHalfWidth === 0 ? 0 : Number.POSITIVE_INFINITY;
  return (100 * s.ciHalfWidth) / Math.abs(s.mean);
}

/**
 * Whether a point gets block `block`: always within the plan's replicates; beyond them only while
 * the values of the blocks before this one are wider than the target (and the maximum allows).
 */
export function needsBlock(
  settings: ScheduleSettings,
  block: number,
  valuesByReplicate: ReadonlyMap<number, number> | undefined,
): boolean {
  if (block <= settings.replicates) return true;
  if (settings.precision === null || block > settings.precision.maxReplicates) return false;
  const earlier = [...(valuesByReplicate ?? new Map<number, number>()).entries()]
    .filter(([r]) => r < block)
    .map(([, v]) => v);
  return halfWidthPercent(earlier) > settings.precision.halfWidthPercent;
}

/** Measurements the plan's time budget allows beyond its replicates, per environment; Infinity without a budget. */
export function extraBudget(settings: Pick<ScheduleSettings, 'precision' | 'testLengthSeconds'>): number {
  const minutes = settings.precision?.budgetMinutes ?? null;
  return minutes === null ? Number.POSITIVE_INFINITY : Math.floor((minutes * 60) / settings.testLengthSeconds);
}

/** The widest half-width (percent of the mean) a point has in any environment, over the blocks before `block`. */
function widest(point: Point, environments: readonly string[], block: number, measured: MeasuredValues): number {
  let worst = 0;
  for (const e of environments) {
    const values = [...(measured.get(e)?.get(point.id) ?? new Map<number, number>()).entries()]
      .filter(([r]) => r < block)
      .map(([, v]) => v);
    worst = Math.max(worst, halfWidthPercent(values));
  }
  return worst;
}

/**
 * The points block `block` measures, in every environment alike. Within the plan's replicates:
 * all. Beyond them: the points still wider than the target in any environment (paired: all
 * environments measure them), the widest first, as many as the time budget has left after the
 * extra blocks before this one.
 */
export function blockPoints(
  plan: Plan,
  settings: ScheduleSettings,
  environments: readonly string[],
  block: number,
  measured: MeasuredValues,
): Point[] {
  const points = expandPoints(plan);
  if (block <= settings.replicates) return points;
  const wantedIn = (b: number) =>
    points.filter((p) => environments.some((e) => needsBlock(settings, b, measured.get(e)?.get(p.id))));
  let left = extraBudget(settings);
  for (let b = settings.replicates + 1; b < block && left > 0; b++) left -= Math.min(left, wantedIn(b).length);
  const wanted = wantedIn(block);
  if (wanted.length <= left) return wanted;
  const ranked = wanted
    .map((p) => ({ p, width: widest(p, environments, block, measured) }))
    .sort((a, b) => b.width - a.width || a.p.id.localeCompare(b.p.id));
  const kept = new Set(ranked.slice(0, Math.max(0, left)).map((x) => x.p.id));
  return wanted.filter((p) => kept.has(p.id));
}

/**
 * The turns of one block, in the order they run: every environment (in the block's Williams
 * order), each with the block's points that are not done yet, shuffled. Environments with nothing
 * to do are left out.
 */
export function blockTurns(
  plan: Plan,
  settings: ScheduleSettings,
  environments: readonly string[],
  block: number,
  done: ReadonlySet<string>,
  measured: MeasuredValues,
): EnvironmentTurn[] {
  const wanted = blockPoints(plan, settings, environments, block, measured);
  const turns: EnvironmentTurn[] = [];
  for (const environment of environmentOrder(environments, block)) {
    const tasks = ordered(wanted, settings, environment, block)
      .map((point) => ({ environment, point, replicate: block }))
      .filter((t) => !done.has(taskKey({ environment, pointId: t.point.id, replicate: block })));
    if (tasks.length > 0) turns.push({ environment, block, tasks });
  }
  return turns;
}

/**
 * Whether any point of any environment could still want block `block` or later: false once the
 * plan's replicates are done and every point meets its target (or has its maximum).
 */
export function moreBlocksPossible(
  plan: Plan,
  settings: ScheduleSettings,
  environments: readonly string[],
  block: number,
  measured: MeasuredValues,
): boolean {
  if (block <= settings.replicates) return true;
  if (settings.precision === null || block > settings.precision.maxReplicates) return false;
  return blockPoints(plan, settings, environments, block, measured).length > 0;
}

/**
 * Environment-major (the old order, kept as a plan option): each environment once, all its
 * replicates in that one turn; replicate r of every point before replicate r+1 of any point, each
 * replicate shuffled on its own. Precision targets do not apply (there are no later blocks).
 */
export function environmentMajorTurns(
  plan: Plan,
  settings: ScheduleSettings,
  environments: readonly string[],
  done: ReadonlySet<string>,
): EnvironmentTurn[] {
  const points = expandPoints(plan);
  const turns: EnvironmentTurn[] = [];
  for (const environment of environments) {
    const tasks: Task[] = [];
    for (let replicate = 1; replicate <= settings.replicates; replicate++) {
      for (const point of ordered(points, settings, environment, replicate)) {
        if (!done.has(taskKey({ environment, pointId: point.id, replicate })))
          tasks.push({ environment, point, replicate });
      }
    }
    turns.push({ environment, block: null, tasks });
  }
  return turns;
}

/**
 * Every task the schedule asks for given what was measured: the planned tasks of a run, for its
 * completeness check (a resumed run is complete when each of these has an ok record).
 */
export function plannedTasks(
  plan: Plan,
  settings: ScheduleSettings,
  environments: readonly string[],
  measured: MeasuredValues,
): Task[] {
  if (settings.design === 'environment-major')
    return environmentMajorTurns(plan, settings, environments, new Set()).flatMap((t) => t.tasks);
  const tasks: Task[] = [];
  for (let block = 1; block <= maxReplicates(settings); block++) {
    if (!moreBlocksPossible(plan, settings, environments, block, measured)) break;
    for (const turn of blockTurns(plan, settings, environments, block, new Set(), measured)) tasks.push(...turn.tasks);
  }
  return tasks;
}

export function taskKey(t: { environment: string; pointId: string; replicate: number }): string {
  return `${t.environment}|${t.pointId}|${t.replicate}`;
}

/**
 * The tasks a resumed run does not measure again (keys from taskKey), from the latest record of
 * each: an ok one, unless it was flagged as disturbed with retakes left (the run was stopped
 * between the flag and its retake, which comes after the turn's other tasks): that task is
 * measured again, as the uninterrupted run would have.
 */
export function doneTasks(
  latest: Iterable<{
    environment: string;
    pointId: string;
    replicate: number;
    status: string;
    interference?: { flagged: boolean; remeasurement?: number };
  }>,
  remeasureFlagged: number,
): Set<string> {
  const done = new Set<string>();
  for (const r of latest) {
    const retakeDue = r.interference?.flagged === true && (r.interference.remeasurement ?? 0) < remeasureFlagged;
    if (r.status === 'ok' && !retakeDue) done.add(taskKey(r));
  }
  return done;
}

/** Collects ok, unflagged throughput values (latest record per task) into MeasuredValues. */
export function measuredValues(
  records: Iterable<{
    environment: string;
    pointId: string;
    replicate: number;
    status: string;
    metrics: { throughputMbps: number } | null;
    interference?: { flagged: boolean };
  }>,
): Map<string, Map<string, Map<number, number>>> {
  const out = new Map<string, Map<string, Map<number, number>>>();
  for (const r of records) {
    const byPoint = out.get(r.environment) ?? new Map<string, Map<number, number>>();
    out.set(r.environment, byPoint);
    const byReplicate = byPoint.get(r.pointId) ?? new Map<number, number>();
    byPoint.set(r.pointId, byReplicate);
    // The latest record of a task wins, as everywhere else: a failed retry after an ok one removes it.
    // A flagged (disturbed) measurement is no value: the point's interval, and so its need for
    // more blocks, is judged on clean replicates only, as the analysis does.
    if (r.status === 'ok' && r.metrics && !r.interference?.flagged)
      byReplicate.set(r.replicate, r.metrics.throughputMbps);
    else byReplicate.delete(r.replicate);
  }
  return out;
}
