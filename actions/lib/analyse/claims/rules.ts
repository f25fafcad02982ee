// What the judging rules of the claim kinds (kinds/*.ts) share. Pure: point summaries in, parts with
// p-values out.
//
// Every rule reduces a claim to parts (a pair of environments, a point, a step, an environment),
// and each part to a t estimate and the interval the paper's words imply. A part has two one-sided
// p-values: that it holds (the estimate is inside the paper's interval) and that it fails (outside
// it). judge.ts applies Holm's correction across the parts of one claim, at the claims file's alpha,
// to both families: a claim is supported when every part holds, refuted when any part fails.
//
// Comparisons:
// - At one point, two environments (or two points of one environment) are compared over their
//   replicates: paired by replicate index when both have the same replicates (a replicate, later a
//   block, is one pass under the same conditions), else Welch's unequal-variance estimate.
// - Over a range, per-point differences of means are paired over the points both share (k - 1
//   degrees of freedom): each point is one observation, so the curve's shape is not counted as
//   noise.
// - Ratios (falls, rises, convergence) are differences of logarithms.

import type { PointSummary } from '../aggregate.ts';
import { MIN_REPLICATES_TO_DECIDE } from '../analysis.ts';
import {
  meanEstimate,
  pAbove,
  pBelow,
  studentTQuantile,
  tInterval,
  welchEstimate,
  type TEstimate,
} from '../../core/stats.ts';
import type { Interval, Metric } from './fields.ts';

export interface Part {
  /** What the part tests, for the evidence. */
  label: string;
  /** The environments it involves (a part with a TCG guest is not judged). */
  environments: string[];
  /** Its numbers, for the evidence. */
  text: string;
  /** What it found, in plain words first and its statistics after ("native above docker by 0.09 x 10^6 bits/s, 95% CI ..."), for the finding; else the label. */
  finding?: string;
  /** One-sided p that the part holds; null when it cannot be tested (see note). */
  pSupport: number | null;
  /** One-sided p that the part fails. */
  pRefute: number | null;
  /** Set when the test could not have detected the paper's effect: the smallest effect it could have, in words. */
  underpowered?: string;
  /** A part that can only refute the claim (e.g. one point of a pooled test); it never needs to hold. */
  onlyRefutes?: boolean;
  /** Why the part cannot be tested. */
  note?: string;
}

export interface RuleContext {
  alpha: number;
  /** The interval printed beside each estimate: two-sided at 1 - alpha. */
  level: number;
}

/** A number to `digits` places; a value that rounds to zero is 0, never -0.00. */
export const fmt = (v: number, digits = 2) =>
  Number.isFinite(v) ? v.toFixed(digits).replace(/^-(0\.?0*)$/, '$1') : String(v);
export const pct = (v: number, digits = 1) => `${v >= 0 ? '+' : ''}${fmt(v * 100, digits)}%`;
export const fmtP = (p: number) => (p < 1e-4 ? '< 0.0001' : p.toPrecision(2));

// ------------------------------------------------------------------------------- point access

export function pointsOf(
  points: readonly PointSummary[],
  env: string,
  test: string,
  series: string | undefined,
  range?: readonly [number, number],
): PointSummary[] {
  return points
    .filter(
      (p) =>
        p.environment === env &&
        p.test === test &&
        p.throughput.n > 0 &&
        (series === undefined || p.series === series) &&
        (!range || (p.value >= range[0] && p.value <= range[1])),
    )
    .sort((a, b) => a.series.localeCompare(b.series) || a.value - b.value);
}

export const pointKey = (p: PointSummary) => `${p.series}|${p.value}`;

export function byPoint(
  points: readonly PointSummary[],
  env: string,
  test: string,
  series: string | undefined,
  range?: readonly [number, number],
): Map<string, PointSummary> {
  return new Map(pointsOf(points, env, test, series, range).map((p) => [pointKey(p), p]));
}

export function seriesText(series: string | undefined): string {
  return series === undefined ? 'all series' : series;
}

export function rangeText(values: readonly number[]): string {
  if (values.length === 0) return 'no points';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${values.length} point${values.length === 1 ? '' : 's'}, ${lo === hi ? `${lo}` : `${lo}-${hi}`} B`;
}

// ------------------------------------------------------------------------------- estimates

export type Estimated = { estimate: TEstimate; method: string } | { estimate: null; note: string };

/**
 * f(a) - f(b) at one point over replicates: paired by replicate index when both have the same
 * replicates (then each pair shares its pass, later its block), else Welch.
 */
export function replicateContrast(a: PointSummary, b: PointSummary, f: (y: number) => number = (y) => y): Estimated {
  if (Math.min(a.samples.length, b.samples.length) < MIN_REPLICATES_TO_DECIDE)
    return {
      estimate: null,
      note: `too few replicates (${a.samples.length} and ${b.samples.length}; need at least ${MIN_REPLICATES_TO_DECIDE} each)`,
    };
  const fa = a.samples.map(f);
  const fb = b.samples.map(f);
  if ([...fa, ...fb].some((v) => !Number.isFinite(v)))
    return { estimate: null, note: 'a replicate of zero throughput: no ratio' };
  const same = a.replicates.length === b.replicates.length && a.replicates.every((r, i) => r === b.replicates[i]);
  if (same) return { estimate: meanEstimate(fa.map((v, i) => v - fb[i]!))!, method: 'paired by replicate' };
  return { estimate: welchEstimate(fa, fb)!, method: 'Welch' };
}

/** p that the true value lies in [low, high], and p that it lies outside (two one-sided tests; Bonferroni over the two sides of a bounded interval). */
export function intervalTest(
  e: TEstimate,
  [low, high]: readonly [number, number | null],
): { pIn: number; pOut: number } {
  if (high === null) return { pIn: pAbove(e, low), pOut: pBelow(e, low) };
  return {
    pIn: Math.max(pAbove(e, low), pBelow(e, high)),
    pOut: Math.min(1, 2 * Math.min(pBelow(e, low), pAbove(e, high))),
  };
}

export function intervalText(i: Interval, unit: Unit): string {
  return i[1] === null ? `at least ${show(unit, i[0])}` : `${unit.number(i[0])} to ${unit.number(i[1])}${unit.suffix}`;
}

/** A way to print values of one quantity: the number, and the unit written once after it or after an interval. */
export interface Unit {
  number: (v: number) => string;
  suffix: string;
}
export const show = (u: Unit, v: number) => `${u.number(v)}${u.suffix}`;

export function estimateText(e: TEstimate, ctx: RuleContext, unit: Unit): string {
  const [lo, hi] = tInterval(e, ctx.level);
  return `${unit.number(e.value)}, ${fmt(ctx.level * 100, 0)}% CI [${unit.number(lo)}, ${unit.number(hi)}]${unit.suffix}`;
}

export const MBIT: Unit = { number: (v) => fmt(v), suffix: ' x 10^6 bits/s' };
export const FRACTION: Unit = { number: (v) => `${fmt(v * 100, 0)}%`, suffix: '' };
export const PERCENT: Unit = { number: (v) => pct(v), suffix: '' };
export const METRIC_UNIT: Record<Metric, Unit> = {
  throughput: MBIT,
  relativeThroughput: { number: (v) => fmt(v, 3), suffix: ' (ratio to native)' },
  okRate: { number: (v) => fmt(v, 4), suffix: ' (okay rate)' },
};

/** Per-point values of a metric over a range, paired between two environments. */
export function pairedOverPoints(
  points: readonly PointSummary[],
  test: string,
  series: string | undefined,
  range: readonly [number, number],
  a: string,
  b: string,
  metric: Metric,
): { diffs: number[]; ratios: number[]; xs: number[]; minReplicates: number; note: string | null } {
  const pb = byPoint(points, b, test, series, range);
  const native = metric === 'relativeThroughput' ? byPoint(points, 'native', test, series, range) : null;
  const diffs: number[] = [];
  const ratios: number[] = [];
  const xs: number[] = [];
  let minReplicates = Number.POSITIVE_INFINITY;
  for (const p of pointsOf(points, a, test, series, range)) {
    const q = pb.get(pointKey(p));
    if (!q) continue;
    let va: number | null = metric === 'okRate' ? p.okRate : p.throughput.mean;
    let vb: number | null = metric === 'okRate' ? q.okRate : q.throughput.mean;
    if (metric === 'relativeThroughput') {
      const n = native!.get(pointKey(p));
      va = n && n.throughput.mean > 0 ? va! / n.throughput.mean : null;
      vb = n && n.throughput.mean > 0 ? vb! / n.throughput.mean : null;
    }
    if (va === null || vb === null) continue;
    diffs.push(va - vb);
    ratios.push(vb > 0 ? va / vb - 1 : Number.NaN);
    xs.push(p.value);
    minReplicates = Math.min(minReplicates, p.throughput.n, q.throughput.n);
  }
  let note: string | null = null;
  if (diffs.length < 2)
    note = `${diffs.length} shared point${diffs.length === 1 ? '' : 's'} (need at least 2)${metric === 'relativeThroughput' && native!.size === 0 ? ': relative throughput needs native' : ''}`;
  else if (minReplicates < MIN_REPLICATES_TO_DECIDE)
    note = `too few replicates (${minReplicates} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`;
  return { diffs, ratios, xs, minReplicates: diffs.length === 0 ? 0 : minReplicates, note };
}

export function untestable(label: string, environments: string[], note: string): Part {
  return { label, environments, text: note, pSupport: null, pRefute: null, note };
}

// ------------------------------------------------------------------------------- how judged

/** A fraction as a whole percentage ("5%"). */
export const percentOf = (v: number) => show(FRACTION, v);

/** " of series from-100" when the claim names one series. */
export const ofSeries = (series: string | undefined) => (series !== undefined ? ` of series ${series}` : '');

/** The rule every kind's parts are decided by, in words. */
export const HOLM = (alpha: number) =>
  `One-sided tests at alpha ${alpha} with Holm's correction across the claim's parts: supported when every part is shown to hold, refuted when any part is shown to fail, otherwise inconclusive.`;

/**
 * A difference a - b in plain words, its statistics after: "docker within 0.77 x 10^6 bits/s of
 * native (native - docker: mean 0.19, 95% CI [-0.40, 0.77])", or "osv above native by 3.10 ...".
 */
export function gapInWords(a: string, b: string, e: TEstimate, ctx: RuleContext, unit: Unit, mean = 'mean '): string {
  const [lo, hi] = tInterval(e, ctx.level);
  const stats = `${a} - ${b}: ${mean}${estimateText(e, ctx, unit)}`;
  if (lo <= 0 && hi >= 0)
    return `${b} within ${show(unit, Math.max(Math.abs(lo), Math.abs(hi))).replace(/^\+/, '')} of ${a} (${stats})`;
  return `${a} ${e.value > 0 ? 'above' : 'below'} ${b} by ${show(unit, Math.abs(e.value)).replace(/^\+/, '')} (${stats})`;
}

/** The power a test needs to call a difference detectable. */
export const POWER = 0.8;

/**
 * The smallest true difference a one-sided t test at alpha detects with 80% power, given the
 * estimate's standard error and degrees of freedom: (t(1 - alpha) + t(power)) x se.
 */
export function smallestDetectable(e: TEstimate, alpha: number): number {
  return (studentTQuantile(1 - alpha, e.df) + studentTQuantile(POWER, e.df)) * e.se;
}

/** "underpowered: ..." when the paper's effect (the low end of its interval, above 0) is below what the test could detect. */
export function powerNote(e: TEstimate, paper: Interval, ctx: RuleContext, unit: Unit): string | undefined {
  const effect = paper[0];
  if (!(effect > 0)) return undefined;
  const detectable = smallestDetectable(e, ctx.alpha);
  if (detectable <= effect) return undefined;
  return `underpowered: at its precision (standard error ${show(unit, e.se)}, ${fmt(e.df, Number.isInteger(e.df) ? 0 : 1)} df) this test detects (${fmt(POWER * 100, 0)}% power, alpha ${ctx.alpha}) a difference of ${show(unit, detectable)} or more, and the paper's effect is ${show(unit, effect)}`;
}

/**
 * Where the paper's interval stands against this part's own one-sided bounds at 1 - alpha (the
 * tests' own level: a 95% two-sided interval can reach past a bound the one-sided test is below):
 * "; with 95% confidence (one-sided) below 0.94, short of the 1.00 needed"; empty when the
 * bounds straddle an end of the interval.
 */
export function boundsAgainst(e: TEstimate, [low, high]: Interval, ctx: RuleContext, unit: Unit): string {
  const t = studentTQuantile(1 - ctx.alpha, e.df);
  const lower = e.value - t * e.se;
  const upper = e.value + t * e.se;
  const level = `with ${fmt((1 - ctx.alpha) * 100, 0)}% confidence (one-sided)`;
  if (upper < low) return `; ${level} below ${show(unit, upper)}, short of the ${show(unit, low)} needed`;
  if (high !== null && lower > high)
    return `; ${level} above ${show(unit, lower)}, beyond the ${show(unit, high)} allowed`;
  if (lower > low && (high === null || upper < high))
    return high === null
      ? `; ${level} at least ${show(unit, lower)}`
      : `; ${level} between ${show(unit, lower)} and ${show(unit, upper)}`;
  return '';
}
