// The unstable claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environments, range, series } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { MIN_REPLICATES_TO_DECIDE } from '../../analysis.ts';
import { isotonicFit, mean, median, pAbove, pBelow, welchEstimate } from '../../../core/stats.ts';
import { fmt, HOLM, ofSeries, pointsOf, untestable, type Part, type RuleContext } from '../rules.ts';

export const UnstableClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('unstable'),
  environments: environments.describe('The less steady ones: each is compared with each baseline'),
  baselines: environments.describe('The steadier ones ("not as stable as the others": every other environment)'),
  series,
  range,
  spreadRatio: z
    .number()
    .gte(1)
    .describe(
      "Each environment's spread around a gradually increasing curve must be more than this many times each baseline's (1: simply more)",
    ),
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
    const fit = isotonicFit(
      list.map((p) => p.throughput.mean),
      list.map((p) => p.throughput.n),
    );
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
export function judgeUnstable(
  c: UnstableClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  _ctx: RuleContext,
): Part[] {
  const parts: Part[] = [];
  for (const env of c.environments) {
    for (const baseline of c.baselines) {
      if (env !== baseline && present.has(env) && present.has(baseline))
        parts.push(unstablePart(c, points, env, baseline));
    }
  }
  return parts;
}

function unstablePart(c: UnstableClaim, points: readonly PointSummary[], env: string, baseline: string): Part {
  const label = `${env} vs ${baseline}`;
  const mine = pointsOf(points, env, c.test, c.series, c.range);
  const base = pointsOf(points, baseline, c.test, c.series, c.range);
  const fewest = Math.min(...[...mine, ...base].map((p) => p.throughput.n));
  if (mine.length < 2 || base.length < 2)
    return untestable(label, [env, baseline], `${label}: too few points in ${c.range[0]}-${c.range[1]} B`);
  if (fewest < MIN_REPLICATES_TO_DECIDE)
    return untestable(
      label,
      [env, baseline],
      `${label}: too few replicates (${fewest} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`,
    );
  const deviations = (ps: readonly PointSummary[]) => {
    const r = residualsFromRise(ps);
    const m = median(r);
    return r.map((v) => Math.abs(v - m));
  };
  const zEnv = deviations(mine);
  const zBase = deviations(base);
  const e = welchEstimate(zEnv, zBase, c.spreadRatio)!;
  const ratio = mean(zBase) > 0 ? mean(zEnv) / mean(zBase) : Number.POSITIVE_INFINITY;
  return {
    label,
    environments: [env, baseline],
    pSupport: pAbove(e, 0),
    pRefute: pBelow(e, 0),
    text: `mean absolute deviation from a non-decreasing fit: ${env} ${fmt(mean(zEnv) * 100)}% (${zEnv.length} replicates), ${baseline} ${fmt(mean(zBase) * 100)}% (${zBase.length}); ratio ${fmt(ratio)}; the claim needs more than ${fmt(c.spreadRatio)}`,
    finding: `${env} swings ${fmt(ratio)} times as far as ${baseline} around a rising curve (mean absolute deviation ${fmt(mean(zEnv) * 100)}% against ${fmt(mean(zBase) * 100)}%); the claim needs more than ${fmt(c.spreadRatio)} times`,
  };
}

export const unstable = defineKind({
  schema: UnstableClaimSchema,
  environments: (c) => [...new Set([...c.environments, ...c.baselines])],
  judge: judgeUnstable,
  describe: (c, alpha) =>
    `Instability as a variance comparison, each of ${c.environments.join(', ')} against each of ${c.baselines.join(', ')}: each replicate's relative deviation from a non-decreasing (isotonic) fit of its series${ofSeries(c.series)} over ${c.range[0]}-${c.range[1]} B, then Levene's test in the Brown-Forsythe form (absolute deviations from the median) with Welch's t, one-sided: a pair holds when the first's mean deviation is shown above ${fmt(c.spreadRatio)} x the second's, fails when shown below. ${HOLM(alpha)}`,
});
