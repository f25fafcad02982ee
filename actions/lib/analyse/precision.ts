// The precision a run reached: per environment, how wide its points' 95% intervals are in percent
// of their means (median and worst), set beside the plan's target. Pure.

import type { PointSummary } from './aggregate.ts';
import { halfWidthPercent } from '../plan/schedule.ts';

export interface EnvironmentPrecision {
  environment: string;
  /** Points with at least one ok replicate. */
  points: number;
  /** Of them, points with fewer than 2 replicates: no interval, left out of the median and the worst. */
  withoutInterval: number;
  /** Median over the points with an interval of the 95% half-width in percent of the mean; null when none has one. */
  medianHalfWidthPercent: number | null;
  worstHalfWidthPercent: number | null;
  /** The point id of the worst one. */
  worstPoint: string | null;
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The precision of each environment's throughput over its points, environments in the order given. */
export function precisionReached(
  points: readonly PointSummary[],
  environments: readonly string[],
): EnvironmentPrecision[] {
  return environments.map((environment) => {
    const measured = points.filter((p) => p.environment === environment && p.throughput.n > 0);
    const widths = measured
      .filter((p) => p.throughput.n >= 2)
      .map((p) => ({ point: p.pointId, width: halfWidthPercent(p.samples) }));
    const sorted = widths.map((w) => w.width).sort((a, b) => a - b);
    const worst = widths.reduce<(typeof widths)[number] | null>(
      (w, x) => (w === null || x.width > w.width ? x : w),
      null,
    );
    return {
      environment,
      points: measured.length,
      withoutInterval: measured.length - widths.length,
      medianHalfWidthPercent: sorted.length ? median(sorted) : null,
      worstHalfWidthPercent: worst?.width ?? null,
      worstPoint: worst?.point ?? null,
    };
  });
}

const percent = (v: number | null) => (v === null ? 'n/a' : Number.isFinite(v) ? `${v.toFixed(2)}%` : 'unbounded');

/** One line per environment for the end of a run; `targetPercent` is the plan's precision.halfWidthPercent. */
export function precisionLines(precision: readonly EnvironmentPrecision[], targetPercent: number | null): string[] {
  const target = targetPercent === null ? 'no precision target in the plan' : `target ${targetPercent}%`;
  const width = Math.max(0, ...precision.map((p) => p.environment.length));
  return [
    `precision reached (95% CI half-width, percent of the mean; ${target}):`,
    ...precision.map((p) => {
      if (p.medianHalfWidthPercent === null)
        return `  ${p.environment.padEnd(width)}  no point has 2 replicates: no interval (${p.points} points)`;
      const missing =
        p.withoutInterval > 0 ? `; ${p.withoutInterval} of ${p.points} points without an interval (1 replicate)` : '';
      const met = targetPercent === null ? '' : `; ${precisionMet(p, targetPercent)} of the points within the target`;
      return `  ${p.environment.padEnd(width)}  median ${percent(p.medianHalfWidthPercent)}, worst ${percent(p.worstHalfWidthPercent)} (${p.worstPoint}) over ${p.points - p.withoutInterval} points${met}${missing}`;
    }),
  ];
}

/** "all", "none" or "some": whether the median and the worst meet the target. */
function precisionMet(p: EnvironmentPrecision, target: number): string {
  if (p.worstHalfWidthPercent !== null && p.worstHalfWidthPercent <= target && p.withoutInterval === 0) return 'all';
  if (p.medianHalfWidthPercent !== null && p.medianHalfWidthPercent <= target) return 'at least half';
  return 'fewer than half';
}
