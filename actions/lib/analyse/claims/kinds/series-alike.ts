// The series-alike claim kind: one series of the plan repeats another ("we obtained similar
// results" for the sweep from 300 B after the one from 100 B). Its schema, its judge and how it is
// judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environments, fraction, range } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { MIN_REPLICATES_TO_DECIDE } from '../../analysis.ts';
import { meanEstimate } from '../../../core/stats.ts';
import {
  fmt,
  gapInWords,
  HOLM,
  intervalTest,
  PERCENT,
  percentOf,
  pointsOf,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const SeriesAlikeClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('series-alike'),
  environments,
  series: z
    .tuple([z.string().min(1), z.string().min(1)])
    .describe('[repeat, original]: the series that repeats, and the one it repeats'),
  range,
  margin: fraction.describe(
    'How far apart "similar" may be: the mean relative difference (repeat / original - 1) over the paired points',
  ),
});

export type SeriesAlikeClaim = z.infer<typeof SeriesAlikeClaimSchema>;

/**
 * Per environment, the i-th point of the repeat against the i-th point of the original within the
 * range (the grids are offset: 300, 1300, ... against 100, 1100, ...), the mean relative difference
 * by two one-sided tests against +-margin (k - 1 df over the pairs).
 */
export function judgeSeriesAlike(
  c: SeriesAlikeClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  const [repeat, original] = c.series;
  const parts: Part[] = [];
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const a = pointsOf(points, env, c.test, repeat, c.range);
    const b = pointsOf(points, env, c.test, original, c.range);
    const k = Math.min(a.length, b.length);
    const label = `${env} ${repeat} vs ${original}`;
    const ratios = a
      .slice(0, k)
      .map((p, i) => (b[i]!.throughput.mean > 0 ? p.throughput.mean / b[i]!.throughput.mean - 1 : Number.NaN));
    const fewest = Math.min(...[...a.slice(0, k), ...b.slice(0, k)].map((p) => p.throughput.n));
    const problem =
      k < 2
        ? `${k} paired point${k === 1 ? '' : 's'} in ${c.range[0]}-${c.range[1]} B (need at least 2)`
        : fewest < MIN_REPLICATES_TO_DECIDE
          ? `too few replicates (${fewest} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`
          : ratios.some((r) => !Number.isFinite(r))
            ? 'a point of zero throughput: no ratio'
            : null;
    if (problem) {
      parts.push(untestable(label, [env], `${label}: ${problem}`));
      continue;
    }
    const e = meanEstimate(ratios)!;
    const { pIn, pOut } = intervalTest(e, [-c.margin, c.margin]);
    const where = `${k} paired points, ${a[0]!.value}-${a[k - 1]!.value} B against ${b[0]!.value}-${b[k - 1]!.value} B`;
    parts.push({
      label,
      environments: [env],
      pSupport: pIn,
      pRefute: pOut,
      text: `${label} (${where}): mean relative difference ${fmt(e.value * 100, 1)}%; similar within +-${fmt(c.margin * 100, 1)}%`,
      finding: `for ${env}, ${gapInWords(repeat, original, e, ctx, PERCENT, 'mean relative difference ')} over ${where}; similar means within +-${fmt(c.margin * 100, 1)}%`,
    });
  }
  return parts;
}

export const seriesAlike = defineKind({
  schema: SeriesAlikeClaimSchema,
  environments: (c) => [...c.environments],
  judge: judgeSeriesAlike,
  describe: (c, alpha) =>
    `Per environment, the series ${c.series[0]} against ${c.series[1]}, point by point in order over ${c.range[0]}-${c.range[1]} B: the mean relative difference by two one-sided tests (TOST) against +-${percentOf(c.margin)}: similar when shown inside, not similar when shown outside. ${HOLM(alpha)}`,
});
