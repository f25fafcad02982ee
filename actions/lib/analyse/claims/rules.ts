// The judging rule of each kind of claim. Pure: point summaries in, parts with p-values out.
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
import { chiSquareCdf, chiSquareQuantile, holmAdjust, isotonicFit, mean, meanEstimate, median, pAbove, pBelow, stdev, tInterval, welchEstimate, type TEstimate } from '../../core/stats.ts';
import type { Claim, CompareClaim, ConvergeClaim, EquivalentClaim, EveryPointClaim, FadesClaim, Interval, Metric, ReplicatesClaim, RiseClaim, StepClaim, UnstableClaim } from './schema.ts';

export interface Part {
  /** What the part tests, for the evidence. */
  label: string;
  /** The environments it involves (a part with a TCG guest is not judged). */
  environments: string[];
  /** Its numbers, for the evidence. */
  text: string;
  /** One-sided p that the part holds; null when it cannot be tested (see note). */
  pSupport: number | null;
  /** One-sided p that the part fails. */
  pRefute: number | null;
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

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const pct = (v: number, digits = 1) => `${v >= 0 ? '+' : ''}${fmt(v * 100, digits)}%`;
export const fmtP = (p: number) => (p < 1e-4 ? '< 0.0001' : p.toPrecision(2));

// ------------------------------------------------------------------------------- point access

function pointsOf(points: readonly PointSummary[], env: string, test: string, series: string | undefined, range?: readonly [number, number]): PointSummary[] {
  return points
    .filter((p) => p.environment === env && p.test === test && p.throughput.n > 0 && (series === undefined || p.series === series) && (!range || (p.value >= range[0] && p.value <= range[1])))
    .sort((a, b) => a.series.localeCompare(b.series) || a.value - b.value);
}

const pointKey = (p: PointSummary) => `${p.series}|${p.value}`;

function byPoint(points: readonly PointSummary[], env: string, test: string, series: string | undefined, range?: readonly [number, number]): Map<string, PointSummary> {
  return new Map(pointsOf(points, env, test, series, range).map((p) => [pointKey(p), p]));
}

function seriesText(series: string | undefined): string {
  return series === undefined ? 'all series' : series;
}

function rangeText(values: readonly number[]): string {
  if (values.length === 0) return 'no points';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${values.length} point${values.length === 1 ? '' : 's'}, ${lo === hi ? `${lo}` : `${lo}-${hi}`} B`;
}

// ------------------------------------------------------------------------------- estimates

type Estimated = { estimate: TEstimate; method: string } | { estimate: null; note: string };

/**
 * f(a) - f(b) at one point over replicates: paired by replicate index when both have the same
 * replicates (then each pair shares its pass, later its block), else Welch.
 */
export function replicateContrast(a: PointSummary, b: PointSummary, f: (y: number) => number = (y) => y): Estimated {
  if (Math.min(a.samples.length, b.samples.length) < MIN_REPLICATES_TO_DECIDE) return { estimate: null, note: `too few replicates (${a.samples.length} and ${b.samples.length}; need at least ${MIN_REPLICATES_TO_DECIDE} each)` };
  const fa = a.samples.map(f);
  const fb = b.samples.map(f);
  if ([...fa, ...fb].some((v) => !Number.isFinite(v))) return { estimate: null, note: 'a replicate of zero throughput: no ratio' };
  const same = a.replicates.length === b.replicates.length && a.replicates.every((r, i) => r === b.replicates[i]);
  if (same) return { estimate: meanEstimate(fa.map((v, i) => v - fb[i]!))!, method: 'paired by replicate' };
  return { estimate: welchEstimate(fa, fb)!, method: 'Welch' };
}

/** p that the true value lies in [low, high], and p that it lies outside (two one-sided tests; Bonferroni over the two sides of a bounded interval). */
export function intervalTest(e: TEstimate, [low, high]: readonly [number, number | null]): { pIn: number; pOut: number } {
  if (high === null) return { pIn: pAbove(e, low), pOut: pBelow(e, low) };
  return { pIn: Math.max(pAbove(e, low), pBelow(e, high)), pOut: Math.min(1, 2 * Math.min(pBelow(e, low), pAbove(e, high))) };
}

function intervalText(i: Interval, unit: Unit): string {
  return i[1] === null ? `at least ${show(unit, i[0])}` : `${unit.number(i[0])} to ${unit.number(i[1])}${unit.suffix}`;
}

/** A way to print values of one quantity: the number, and the unit written once after it or after an interval. */
interface Unit {
  number: (v: number) => string;
  suffix: string;
}
const show = (u: Unit, v: number) => `${u.number(v)}${u.suffix}`;

function estimateText(e: TEstimate, ctx: RuleContext, unit: Unit): string {
  const [lo, hi] = tInterval(e, ctx.level);
  return `${unit.number(e.value)}, ${fmt(ctx.level * 100, 0)}% CI [${unit.number(lo)}, ${unit.number(hi)}]${unit.suffix}`;
}

const MBIT: Unit = { number: (v) => fmt(v), suffix: ' x 10^6 bits/s' };
const FRACTION: Unit = { number: (v) => `${fmt(v * 100, 0)}%`, suffix: '' };
const PERCENT: Unit = { number: (v) => pct(v), suffix: '' };
const METRIC_UNIT: Record<Metric, Unit> = {
  throughput: MBIT,
  relativeThroughput: { number: (v) => fmt(v, 3), suffix: ' (ratio to native)' },
  okRate: { number: (v) => fmt(v, 4), suffix: ' (okay rate)' },
};

/** Per-point values of a metric over a range, paired between two environments. */
function pairedOverPoints(points: readonly PointSummary[], test: string, series: string | undefined, range: readonly [number, number], a: string, b: string, metric: Metric): { diffs: number[]; ratios: number[]; xs: number[]; minReplicates: number; note: string | null } {
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
  if (diffs.length < 2) note = `${diffs.length} shared point${diffs.length === 1 ? '' : 's'} (need at least 2)${metric === 'relativeThroughput' && native!.size === 0 ? ': relative throughput needs native' : ''}`;
  else if (minReplicates < MIN_REPLICATES_TO_DECIDE) note = `too few replicates (${minReplicates} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`;
  return { diffs, ratios, xs, minReplicates: diffs.length === 0 ? 0 : minReplicates, note };
}

function untestable(label: string, environments: string[], note: string): Part {
  return { label, environments, text: note, pSupport: null, pRefute: null, note };
}

// ------------------------------------------------------------------------------- compare

function comparePairs(c: CompareClaim): [string, string][] {
  if (c.order) return c.order.slice(1).map((b, i) => [c.order![i]!, b]);
  return (c.above ?? []).flatMap((a) => (c.below ?? []).map((b) => [a, b] as [string, string]));
}

/** Each pair: the mean over shared points of (above - below), against the paper's interval. */
export function judgeCompare(c: CompareClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const unit = METRIC_UNIT[c.metric];
  return comparePairs(c)
    .filter(([a, b]) => present.has(a) && present.has(b))
    .map(([a, b]) => {
      const label = `${a} - ${b}`;
      const r = pairedOverPoints(points, c.test, c.series, c.range, a, b, c.metric);
      const where = `${seriesText(c.series)}, ${rangeText(r.xs)}`;
      if (r.note) return untestable(label, [a, b], `${label} (${where}): ${r.note}`);
      const e = meanEstimate(r.diffs)!;
      const { pIn, pOut } = intervalTest(e, c.difference);
      return { label, environments: [a, b], pSupport: pIn, pRefute: pOut, text: `${label} (${where}): mean ${estimateText(e, ctx, unit)}; the paper: ${intervalText(c.difference, unit)}` };
    });
}

// ------------------------------------------------------------------------------- every point

/** At every shared point of each part's range, above - below over replicates, against the interval. */
export function judgeEveryPoint(c: EveryPointClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  for (const part of c.parts) {
    if (!present.has(part.above) || !present.has(part.below)) continue;
    const below = byPoint(points, part.below, c.test, c.series, part.range);
    const shared = pointsOf(points, part.above, c.test, c.series, part.range).filter((p) => below.has(pointKey(p)));
    const label = `${part.above} - ${part.below}`;
    if (shared.length === 0) {
      parts.push(untestable(label, [part.above, part.below], `${label} (${seriesText(c.series)}, ${part.range[0]}-${part.range[1]} B): no shared points`));
      continue;
    }
    for (const p of shared) {
      const r = replicateContrast(p, below.get(pointKey(p))!);
      const at = `${label} at ${p.value} B (${p.series})`;
      if (r.estimate === null) {
        parts.push(untestable(at, [part.above, part.below], `${at}: ${r.note}`));
        continue;
      }
      const { pIn, pOut } = intervalTest(r.estimate, c.difference);
      parts.push({ label: at, environments: [part.above, part.below], pSupport: pIn, pRefute: pOut, text: `${at}: ${estimateText(r.estimate, ctx, MBIT)} (${r.method})` });
    }
  }
  return parts;
}

// ------------------------------------------------------------------------------- steps

const fallOf = (logRatio: number) => 1 - Math.exp(logRatio);

/** The fall 1 - after/before over one step of a grid: the log ratio over replicates against log(1 - fall). */
export function judgeStep(c: StepClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    for (const step of c.steps) {
      const label = `${env} ${step.from}->${step.to} B (${step.series})`;
      const mine = byPoint(points, env, c.test, step.series);
      const before = mine.get(`${step.series}|${step.from}`);
      const after = mine.get(`${step.series}|${step.to}`);
      if (!before || !after) {
        parts.push(untestable(label, [env], `${label}: ${!before ? step.from : step.to} B not measured in series ${step.series}`));
        continue;
      }
      const r = replicateContrast(after, before, Math.log);
      if (r.estimate === null) {
        parts.push(untestable(label, [env], `${label}: ${r.note}`));
        continue;
      }
      // A fall in [low, high] is a log ratio in [log(1 - high), log(1 - low)].
      const [low, high] = c.fall;
      const { pIn, pOut } = intervalTest(r.estimate, [high === null ? Number.NEGATIVE_INFINITY : Math.log(1 - high), Math.log(1 - low)]);
      const [lo, hi] = tInterval(r.estimate, ctx.level);
      parts.push({
        label,
        environments: [env],
        pSupport: pIn,
        pRefute: pOut,
        text: `${label}: ${fmt(before.throughput.mean)} -> ${fmt(after.throughput.mean)} x 10^6 bits/s, ${fallOf(r.estimate.value) >= 0 ? 'a fall' : 'a rise, a fall'} of ${fmt(fallOf(r.estimate.value) * 100, 1)}%, ${fmt(ctx.level * 100, 0)}% CI [${fmt(fallOf(hi) * 100, 1)}%, ${fmt(fallOf(lo) * 100, 1)}%] (${r.method}); the paper: a fall of ${intervalText(c.fall, FRACTION)}`,
      });
    }
  }
  return parts;
}

// ------------------------------------------------------------------------------- rise

/** A gradual rise: the last point above the first by the interval, and no step down by more than maximumStepFall. */
export function judgeRise(c: RiseClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  const floor = Math.log(1 - c.maximumStepFall);
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const mine = pointsOf(points, env, c.test, c.series, c.range);
    const bySeries = new Map<string, PointSummary[]>();
    for (const p of mine) bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), p]);
    if (bySeries.size === 0) {
      parts.push(untestable(`${env} rise`, [env], `${env}: no points in ${c.range[0]}-${c.range[1]} B`));
      continue;
    }
    for (const [series, ps] of bySeries) {
      const first = ps[0]!;
      const last = ps[ps.length - 1]!;
      const label = `${env} ${first.value}->${last.value} B (${series})`;
      const overall = ps.length < 2 ? null : replicateContrast(last, first, Math.log);
      if (overall === null || overall.estimate === null) {
        parts.push(untestable(label, [env], `${label}: ${overall === null ? 'one point' : overall.note}`));
        continue;
      }
      const [low, high] = c.rise;
      const { pIn, pOut } = intervalTest(overall.estimate, [Math.log(1 + low), high === null ? null : Math.log(1 + high)]);
      const rise: Part = { label, environments: [env], pSupport: pIn, pRefute: pOut, text: `${label}: ${fmt(first.throughput.mean)} -> ${fmt(last.throughput.mean)} x 10^6 bits/s, a rise of ${pct(Math.exp(overall.estimate.value) - 1)}` };
      parts.push(rise);
      // Each step must not fall by more than the maximum: only a step that clearly falls refutes,
      // and every step must clearly not fall for the rise to be gradual.
      let worst: { text: string; value: number } | null = null;
      for (let i = 1; i < ps.length; i++) {
        const step = replicateContrast(ps[i]!, ps[i - 1]!, Math.log);
        const stepLabel = `${env} ${ps[i - 1]!.value}->${ps[i]!.value} B (${series})`;
        if (step.estimate === null) {
          parts.push(untestable(stepLabel, [env], `${stepLabel}: ${step.note}`));
          continue;
        }
        const text = `${stepLabel}: ${pct(Math.exp(step.estimate.value) - 1)}`;
        if (worst === null || step.estimate.value < worst.value) worst = { text, value: step.estimate.value };
        parts.push({ label: stepLabel, environments: [env], pSupport: pAbove(step.estimate, floor), pRefute: pBelow(step.estimate, floor), text });
      }
      if (worst) rise.text += `; the lowest step: ${worst.text}`;
    }
  }
  return parts;
}

// ------------------------------------------------------------------------------- instability

/**
 * Replicate-level residuals from a gradually increasing curve: per series, the isotonic
 * (non-decreasing) fit of the point means weighted by replicates, and each replicate's relative
 * deviation from it. Both the noise of the replicates and the ups and downs of the curve count.
 */
export function residualsFromRise(ps: readonly PointSummary[]): number[] {
  const bySeries = new Map<string, PointSummary[]>();
  for (const p of ps) if (p.throughput.n > 0) bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), p]);
  const out: number[] = [];
  for (const list of bySeries.values()) {
    list.sort((a, b) => a.value - b.value);
    const fit = isotonicFit(list.map((p) => p.throughput.mean), list.map((p) => p.throughput.n));
    list.forEach((p, i) => {
      if (fit[i]! > 0) for (const y of p.samples) out.push(y / fit[i]! - 1);
    });
  }
  return out;
}

/**
 * Instability as a variance comparison with the baseline: Levene's test in the Brown-Forsythe form
 * (absolute deviations of the residuals from their median), with Welch's t on those deviations,
 * one-sided against `spreadRatio` times the baseline's mean deviation.
 */
export function judgeUnstable(c: UnstableClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  if (!present.has(c.environment) || !present.has(c.baseline)) return [];
  const label = `${c.environment} vs ${c.baseline}`;
  const mine = pointsOf(points, c.environment, c.test, undefined, c.range);
  const base = pointsOf(points, c.baseline, c.test, undefined, c.range);
  const fewest = Math.min(...[...mine, ...base].map((p) => p.throughput.n));
  if (mine.length < 2 || base.length < 2) return [untestable(label, [c.environment, c.baseline], `${label}: too few points in ${c.range[0]}-${c.range[1]} B`)];
  if (fewest < MIN_REPLICATES_TO_DECIDE) return [untestable(label, [c.environment, c.baseline], `${label}: too few replicates (${fewest} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`)];
  const deviations = (ps: readonly PointSummary[]) => {
    const r = residualsFromRise(ps);
    const m = median(r);
    return r.map((v) => Math.abs(v - m));
  };
  const zEnv = deviations(mine);
  const zBase = deviations(base);
  const e = welchEstimate(zEnv, zBase, c.spreadRatio)!;
  const ratio = mean(zBase) > 0 ? mean(zEnv) / mean(zBase) : Number.POSITIVE_INFINITY;
  return [{
    label,
    environments: [c.environment, c.baseline],
    pSupport: pAbove(e, 0),
    pRefute: pBelow(e, 0),
    text: `mean absolute deviation from a non-decreasing fit: ${c.environment} ${fmt(mean(zEnv) * 100)}% (${zEnv.length} replicates), ${c.baseline} ${fmt(mean(zBase) * 100)}% (${zBase.length}); ratio ${fmt(ratio)}; the claim needs at least ${fmt(c.spreadRatio)}`,
  }];
}

// ------------------------------------------------------------------------------- convergence

/** p that |ratio - 1| > tol at a point (two one-sided tests, Bonferroni over the two sides). */
function pOutside(e: TEstimate, tol: number): number {
  return Math.min(1, 2 * Math.min(pAbove(e, Math.log(1 + tol)), pBelow(e, Math.log(1 - tol))));
}

/**
 * Per environment: a divergence from the baseline by more than the tolerance at some point of the
 * divergence range (Holm across those points) must be shown first; then the worst point of the
 * convergence range decides: every point within the tolerance (each by two one-sided tests) holds,
 * any point clearly outside fails.
 */
export function judgeConverge(c: ConvergeClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  if (!present.has(c.baseline)) return [];
  const parts: Part[] = [];
  const baseline = byPoint(points, c.baseline, c.test, undefined);
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const contrasts = (range: readonly [number, number]) =>
      pointsOf(points, env, c.test, undefined, range)
        .filter((p) => baseline.has(pointKey(p)))
        .map((p) => ({ p, r: replicateContrast(p, baseline.get(pointKey(p))!, Math.log) }));
    const before = contrasts(c.diverge);
    const after = contrasts(c.converge);
    const tested = (list: typeof before) => list.filter((x): x is { p: PointSummary; r: { estimate: TEstimate; method: string } } => x.r.estimate !== null);
    const untested = [...before, ...after].find((x) => x.r.estimate === null);
    if (untested && untested.r.estimate === null) {
      parts.push(untestable(env, [env, c.baseline], `${env}: ${untested.r.note}`));
      continue;
    }
    const b = tested(before);
    const a = tested(after);
    if (a.length === 0) {
      parts.push(untestable(env, [env, c.baseline], `${env}: no points shared with ${c.baseline} in ${c.converge[0]}-${c.converge[1]} B`));
      continue;
    }
    const dev = (e: TEstimate) => Math.exp(e.value) - 1;
    const pDiverge = holmAdjust(b.map((x) => pOutside(x.r.estimate, c.tolerance)));
    const widest = b.reduce<(typeof b)[number] | null>((w, x) => (w === null || Math.abs(dev(x.r.estimate)) > Math.abs(dev(w.r.estimate)) ? x : w), null);
    const diverged = pDiverge.some((p) => p < ctx.alpha);
    const pIn = a.map((x) => intervalTest(x.r.estimate, [Math.log(1 - c.tolerance), Math.log(1 + c.tolerance)]).pIn);
    const worstIndex = pIn.indexOf(Math.max(...pIn));
    const worst = a[worstIndex]!;
    const pOut = Math.min(...holmAdjust(a.map((x) => pOutside(x.r.estimate, c.tolerance))));
    const largest = a.reduce((w, x) => (Math.abs(dev(x.r.estimate)) > Math.abs(dev(w.r.estimate)) ? x : w), a[0]!);
    const divergence = widest ? `largest deviation below ${c.diverge[1]} B: ${pct(dev(widest.r.estimate))} at ${widest.p.value} B (${widest.p.series}), ${diverged ? `beyond +-${fmt(c.tolerance * 100, 0)}% (Holm p ${fmtP(Math.min(...pDiverge))})` : 'not shown beyond the tolerance'}` : `no points below ${c.diverge[1]} B`;
    const convergence = `beyond ${c.converge[0]} B (${a.length} points): largest deviation ${pct(dev(largest.r.estimate))} at ${largest.p.value} B (${largest.p.series}); least certainly within +-${fmt(c.tolerance * 100, 0)}%: ${worst.p.value} B (${worst.p.series}), p ${fmtP(pIn[worstIndex]!)}`;
    const text = `${env} vs ${c.baseline}: ${divergence}; ${convergence}`;
    if (!diverged) {
      parts.push({ label: env, environments: [env, c.baseline], text: `${text}. No divergence shown: nothing to converge from`, pSupport: null, pRefute: null, note: 'no divergence shown' });
      continue;
    }
    parts.push({ label: env, environments: [env, c.baseline], pSupport: Math.max(...pIn), pRefute: pOut, text });
  }
  return parts;
}

// ------------------------------------------------------------------------------- equivalence

/** Every pair alike: two one-sided tests (TOST) of the mean per-point difference against +-margin. */
export function judgeEquivalent(c: EquivalentClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  const envs = c.environments.filter((e) => present.has(e));
  const relative = 'relative' in c.margin;
  const m = 'relative' in c.margin ? c.margin.relative : c.margin.absolute;
  const unit = relative ? PERCENT : METRIC_UNIT[c.metric];
  for (let i = 0; i < envs.length; i++) {
    for (const b of envs.slice(i + 1)) {
      const a = envs[i]!;
      const label = `${a} vs ${b}`;
      const r = pairedOverPoints(points, c.test, c.series, c.range, a, b, c.metric);
      const where = `${seriesText(c.series)}, ${rangeText(r.xs)}`;
      const note = r.note ?? (relative && r.ratios.some((v) => !Number.isFinite(v)) ? `a point where ${b} is 0: no ratio` : null);
      if (note) {
        parts.push(untestable(label, [a, b], `${label} (${where}): ${note}`));
        continue;
      }
      const e = meanEstimate(relative ? r.ratios : r.diffs)!;
      const { pIn, pOut } = intervalTest(e, [-m, m]);
      parts.push({ label, environments: [a, b], pSupport: pIn, pRefute: pOut, text: `${label} (${where}): mean ${relative ? 'relative ' : ''}difference ${estimateText(e, ctx, unit)}; alike within +-${relative ? `${fmt(m * 100, 1)}%` : show(unit, m)}` });
    }
  }
  return parts;
}

// ------------------------------------------------------------------------------- fading

/** An advantage shown inside that fades outside: the outside gap below (1 - fade) x the inside gap (Welch over the per-point gaps). */
export function judgeFades(c: FadesClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  if (!present.has(c.above)) return [];
  const unit = METRIC_UNIT[c.metric];
  return c.below
    .filter((b) => present.has(b))
    .map((b) => {
      const label = `${c.above} - ${b}`;
      const inside = pairedOverPoints(points, c.test, undefined, c.inside, c.above, b, c.metric);
      const outside = pairedOverPoints(points, c.test, undefined, c.outside, c.above, b, c.metric);
      if (inside.note || outside.note) return untestable(label, [c.above, b], `${label}: ${inside.note ? `inside ${c.inside[0]}-${c.inside[1]} B: ${inside.note}` : `outside ${c.outside[0]}-${c.outside[1]} B: ${outside.note}`}`);
      const gapIn = meanEstimate(inside.diffs)!;
      const shown = pAbove(gapIn, 0);
      const gaps = `mean gap ${show(unit, mean(inside.diffs))} in ${c.inside[0]}-${c.inside[1]} B (${inside.diffs.length} points), ${show(unit, mean(outside.diffs))} in ${c.outside[0]}-${c.outside[1]} B (${outside.diffs.length} points)`;
      if (!(shown < ctx.alpha)) return { label, environments: [c.above, b], pSupport: null, pRefute: null, note: 'no advantage shown', text: `${label}: ${gaps}; no advantage shown inside (p ${fmtP(shown)}): nothing to fade` };
      // Faded: mean(outside) - (1 - fade) x mean(inside) < 0.
      const e = welchEstimate(outside.diffs, inside.diffs, 1 - c.fade)!;
      return { label, environments: [c.above, b], pSupport: pBelow(e, 0), pRefute: pAbove(e, 0), text: `${label}: ${gaps}; faded means the outside gap is below ${fmt((1 - c.fade) * 100, 0)}% of the inside gap` };
    });
}

// ------------------------------------------------------------------------------- replicates

/**
 * Replicates that agree: the replicate standard deviation as a fraction of the mean, per
 * environment pooled over its points (chi-square with the summed degrees of freedom: holds when
 * clearly below the maximum, fails when clearly above), and per point (fails when clearly above).
 */
export function judgeReplicates(c: ReplicatesClaim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  const tau = c.maximumSpread;
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const ps = pointsOf(points, env, c.test, undefined).filter((p) => p.throughput.n >= MIN_REPLICATES_TO_DECIDE && p.throughput.mean > 0);
    if (ps.length === 0) {
      parts.push(untestable(env, [env], `${env}: no point with at least ${MIN_REPLICATES_TO_DECIDE} replicates`));
      continue;
    }
    const relVar = (p: PointSummary) => (stdev(p.samples) / p.throughput.mean) ** 2;
    const df = ps.reduce((s, p) => s + p.throughput.n - 1, 0);
    const pooled = ps.reduce((s, p) => s + (p.throughput.n - 1) * relVar(p), 0) / df;
    const x = (df * pooled) / tau ** 2;
    const upper = Math.sqrt((df * pooled) / chiSquareQuantile(1 - ctx.alpha, df));
    const worst = ps.reduce((w, p) => (relVar(p) > relVar(w) ? p : w), ps[0]!);
    parts.push({
      label: `${env} pooled`,
      environments: [env],
      pSupport: chiSquareCdf(x, df),
      pRefute: 1 - chiSquareCdf(x, df),
      text: `${env}: replicate standard deviation ${fmt(Math.sqrt(pooled) * 100)}% of the mean pooled over ${ps.length} points (${df} df; ${fmt((1 - ctx.alpha) * 100, 0)}% upper bound ${fmt(upper * 100)}%), largest ${fmt(Math.sqrt(relVar(worst)) * 100)}% at ${worst.value} B (${worst.series}); negligible means at most ${fmt(tau * 100, 1)}%`,
    });
    for (const p of ps) {
      const k = p.throughput.n - 1;
      parts.push({ label: `${env} at ${p.value} B (${p.series})`, environments: [env], onlyRefutes: true, pSupport: null, pRefute: 1 - chiSquareCdf((k * relVar(p)) / tau ** 2, k), text: `${env} at ${p.value} B (${p.series}): ${fmt(Math.sqrt(relVar(p)) * 100)}%` });
    }
  }
  return parts;
}

// ------------------------------------------------------------------------------- dispatch

export function judgeParts(c: Claim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext): Part[] {
  switch (c.kind) {
    case 'compare':
      return judgeCompare(c, points, present, ctx);
    case 'every-point':
      return judgeEveryPoint(c, points, present, ctx);
    case 'step':
      return judgeStep(c, points, present, ctx);
    case 'rise':
      return judgeRise(c, points, present, ctx);
    case 'unstable':
      return judgeUnstable(c, points, present, ctx);
    case 'converge':
      return judgeConverge(c, points, present, ctx);
    case 'equivalent':
      return judgeEquivalent(c, points, present, ctx);
    case 'fades':
      return judgeFades(c, points, present, ctx);
    case 'replicates-agree':
      return judgeReplicates(c, points, present, ctx);
  }
}

// ------------------------------------------------------------------------------- how judged

const fraction = (v: number) => show(FRACTION, v);

/** How a claim is judged, in words, from its kind and parameters (shown beside the verdict). */
export function describeRule(c: Claim, alpha: number): string {
  const holm = `One-sided tests at alpha ${alpha} with Holm's correction across the claim's parts: supported when every part is shown to hold, refuted when any part is shown to fail, otherwise inconclusive.`;
  const series = 'series' in c && c.series !== undefined ? ` of series ${c.series}` : '';
  switch (c.kind) {
    case 'compare':
      return `For each pair, the mean over the shared points${series} in ${c.range[0]}-${c.range[1]} B of the difference in ${c.metric === 'relativeThroughput' ? 'throughput relative to native (Fig. 5 averages ratios)' : c.metric === 'okRate' ? 'okay rate (messages received / sent, pooled over replicates)' : 'throughput'}, paired over points (t, k - 1 df); a pair holds when the mean is shown to be ${intervalText(c.difference, METRIC_UNIT[c.metric])}, fails when shown to be outside that. ${holm}`;
    case 'every-point':
      return `At every shared point${series} of each part's range, the difference over replicates (paired by replicate when both have the same replicates, else Welch) must be ${intervalText(c.difference, MBIT)}; one point clearly outside refutes. ${holm}`;
    case 'step':
      return `Each step (${c.steps.map((s) => `${s.from}->${s.to} B of ${s.series}`).join(', ')}) per environment: the fall 1 - after/before from the log ratio over replicates (paired by replicate when possible), holding when the fall is ${intervalText(c.fall, FRACTION)}. ${holm}`;
    case 'rise':
      return `Per environment and series, over ${c.range[0]}-${c.range[1]} B: the last point above the first by ${intervalText(c.rise, FRACTION)} (log ratio over replicates), and no step from one point to the next falling by more than ${fraction(c.maximumStepFall)} (each step must be shown not to). ${holm}`;
    case 'unstable':
      return `Instability as a variance comparison with ${c.baseline}: each replicate's relative deviation from a non-decreasing (isotonic) fit of its series over ${c.range[0]}-${c.range[1]} B, then Levene's test in the Brown-Forsythe form (absolute deviations from the median) with Welch's t, one-sided: supported when ${c.environment}'s mean deviation is above ${fmt(c.spreadRatio)} x ${c.baseline}'s, refuted when below, at alpha ${alpha}.`;
    case 'converge':
      return `Per environment against ${c.baseline} (log ratio over replicates at each point): a deviation beyond +-${fraction(c.tolerance)} must first be shown somewhere in ${c.diverge[0]}-${c.diverge[1]} B (Holm across those points), else inconclusive (nothing to converge from); then the worst point in ${c.converge[0]}-${c.converge[1]} B decides: every point within +-${fraction(c.tolerance)} by two one-sided tests holds, any point clearly outside fails. ${holm}`;
    case 'equivalent':
      return `Every pair: the mean over shared points${series} in ${c.range[0]}-${c.range[1]} B of the ${'relative' in c.margin ? `relative difference (a/b - 1) in ${c.metric}` : `difference in ${c.metric}`}, by two one-sided tests (TOST) against +-${'relative' in c.margin ? fraction(c.margin.relative) : show(METRIC_UNIT[c.metric], c.margin.absolute)}: alike when shown inside, not alike when shown outside. ${holm}`;
    case 'fades':
      return `Per pair: an advantage of ${c.above} in ${c.inside[0]}-${c.inside[1]} B must be shown first (mean per-point gap above 0), else inconclusive; it has faded when the mean gap in ${c.outside[0]}-${c.outside[1]} B is below ${fraction(1 - c.fade)} of the inside gap (Welch over the per-point gaps). ${holm}`;
    case 'replicates-agree':
      return `Per environment, the replicate standard deviation as a fraction of each point's mean: pooled over its points (chi-square) it must be shown below ${fraction(c.maximumSpread)}; any point, or the pool, shown above it refutes. ${holm}`;
  }
}
