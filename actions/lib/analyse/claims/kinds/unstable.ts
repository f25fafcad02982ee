// The unstable claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, range } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { MIN_REPLICATES_TO_DECIDE } from '../../analysis.ts';
import { isotonicFit, mean, median, pAbove, pBelow, welchEstimate } from '../../../core/stats.ts';
import { fmt, pointsOf, untestable, type Part, type RuleContext } from '../rules.ts';

export const UnstableClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('unstable'),
  environment,
  baseline: environment,
  range,
  spreadRatio: z.number().gt(1).describe('The environment\'s spread around a gradually increasing curve must be at least this many times the baseline\'s'),
});

export type UnstableClaim = z.infer<typeof UnstableClaimSchema>;

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

export const unstable = defineKind({
  schema: UnstableClaimSchema,
  environments: (c) => [c.environment, c.baseline],
  judge: judgeUnstable,
  describe: (c, alpha) => `Instability as a variance comparison with ${c.baseline}: each replicate's relative deviation from a non-decreasing (isotonic) fit of its series over ${c.range[0]}-${c.range[1]} B, then Levene's test in the Brown-Forsythe form (absolute deviations from the median) with Welch's t, one-sided: supported when ${c.environment}'s mean deviation is above ${fmt(c.spreadRatio)} x ${c.baseline}'s, refuted when below, at alpha ${alpha}.`,
});
