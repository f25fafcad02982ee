// The replicates-agree claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environments, fraction } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { MIN_REPLICATES_TO_DECIDE } from '../../analysis.ts';
import { chiSquareCdf, chiSquareQuantile, stdev } from '../../../core/stats.ts';
import { HOLM, percentOf, fmt, pointsOf, untestable, type Part, type RuleContext } from '../rules.ts';

export const ReplicatesClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('replicates-agree'),
  environments,
  maximumSpread: fraction.describe(
    'Largest replicate standard deviation, as a fraction of the point\'s mean, that is "negligible"',
  ),
});

export type ReplicatesClaim = z.infer<typeof ReplicatesClaimSchema>;

/**
 * Replicates that agree: the replicate standard deviation as a fraction of the mean, per
 * environment pooled over its points (chi-square with the summed degrees of freedom: holds when
 * clearly below the maximum, fails when clearly above), and per point (fails when clearly above).
 */
/**
 * The one-sided 1 - alpha upper confidence bound of a standard deviation from its pooled variance
 * on df degrees of freedom: df s^2 / sigma^2 is chi-square(df), so sigma < s sqrt(df / q) with q
 * the chi-square quantile at alpha (the lower tail: a small q gives the large sigma).
 */
export function replicateSpreadUpperBound(pooledVariance: number, df: number, alpha: number): number {
  return Math.sqrt((df * pooledVariance) / chiSquareQuantile(alpha, df));
}

export function judgeReplicates(
  c: ReplicatesClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  const parts: Part[] = [];
  const tau = c.maximumSpread;
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const ps = pointsOf(points, env, c.test, undefined).filter(
      (p) => p.throughput.n >= MIN_REPLICATES_TO_DECIDE && p.throughput.mean > 0,
    );
    if (ps.length === 0) {
      parts.push(untestable(env, [env], `${env}: no point with at least ${MIN_REPLICATES_TO_DECIDE} replicates`));
      continue;
    }
    const relVar = (p: PointSummary) => (stdev(p.samples) / p.throughput.mean) ** 2;
    const df = ps.reduce((s, p) => s + p.throughput.n - 1, 0);
    const pooled = ps.reduce((s, p) => s + (p.throughput.n - 1) * relVar(p), 0) / df;
    const x = (df * pooled) / tau ** 2;
    const upper = replicateSpreadUpperBound(pooled, df, ctx.alpha);
    const worst = ps.reduce((w, p) => (relVar(p) > relVar(w) ? p : w), ps[0]!);
    parts.push({
      label: `${env} pooled`,
      environments: [env],
      pSupport: chiSquareCdf(x, df),
      finding: `${env}'s replicates differ by ${fmt(Math.sqrt(pooled) * 100)}% of the mean (standard deviation pooled over ${ps.length} points; ${fmt((1 - ctx.alpha) * 100, 0)}% upper bound ${fmt(upper * 100)}%); negligible means at most ${fmt(tau * 100, 1)}%`,
      pRefute: 1 - chiSquareCdf(x, df),
      text: `${env}: replicate standard deviation ${fmt(Math.sqrt(pooled) * 100)}% of the mean pooled over ${ps.length} points (${df} df; ${fmt((1 - ctx.alpha) * 100, 0)}% upper bound ${fmt(upper * 100)}%), largest ${fmt(Math.sqrt(relVar(worst)) * 100)}% at ${worst.value} B (${worst.series}); negligible means at most ${fmt(tau * 100, 1)}%`,
    });
    for (const p of ps) {
      const k = p.throughput.n - 1;
      parts.push({
        label: `${env} at ${p.value} B (${p.series})`,
        environments: [env],
        onlyRefutes: true,
        pSupport: null,
        pRefute: 1 - chiSquareCdf((k * relVar(p)) / tau ** 2, k),
        text: `${env} at ${p.value} B (${p.series}): ${fmt(Math.sqrt(relVar(p)) * 100)}%`,
      });
    }
  }
  return parts;
}

export const replicatesAgree = defineKind({
  schema: ReplicatesClaimSchema,
  environments: (c) => [...c.environments],
  judge: judgeReplicates,
  describe: (c, alpha) =>
    `Per environment, the replicate standard deviation as a fraction of each point's mean: pooled over its points (chi-square) it must be shown below ${percentOf(c.maximumSpread)}; any point, or the pool, shown above it refutes. ${HOLM(alpha)}`,
});
