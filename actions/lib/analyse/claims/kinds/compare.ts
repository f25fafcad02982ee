// The compare claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, environments, interval, METRICS, range, series } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { meanEstimate } from '../../../core/stats.ts';
import {
  boundsAgainst,
  gapInWords,
  HOLM,
  powerNote,
  ofSeries,
  METRIC_UNIT,
  estimateText,
  intervalTest,
  intervalText,
  pairedOverPoints,
  rangeText,
  seriesText,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const CompareClaimSchema = z
  .strictObject({
    ...common,
    kind: z.literal('compare'),
    series,
    range,
    metric: z.enum(METRICS),
    above: environments.optional().describe('Every environment in above beats every one in below'),
    below: environments.optional(),
    order: z
      .array(environment)
      .min(2)
      .optional()
      .describe('Instead of above and below: each environment beats the next'),
    difference: interval.describe("The mean gap over the range (above - below), in the metric's unit"),
  })
  .superRefine((c, ctx) => {
    const pairs = c.above !== undefined || c.below !== undefined;
    if (pairs && c.order !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['order'],
        message: 'give either "above" and "below" or "order", not both',
      });
    else if (pairs && (c.above === undefined || c.below === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [c.above === undefined ? 'above' : 'below'],
        message: 'missing: "above" and "below" go together',
      });
    else if (!pairs && c.order === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['above'],
        message: 'missing: a compare claim needs "above" and "below", or "order"',
      });
  });

export type CompareClaim = z.infer<typeof CompareClaimSchema>;

function comparePairs(c: CompareClaim): [string, string][] {
  if (c.order) return c.order.slice(1).map((b, i) => [c.order![i]!, b]);
  return (c.above ?? []).flatMap((a) => (c.below ?? []).map((b) => [a, b] as [string, string]));
}

/** Each pair: the mean over shared points of (above - below), against the paper's interval. */
export function judgeCompare(
  c: CompareClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
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
      return {
        label,
        environments: [a, b],
        pSupport: pIn,
        pRefute: pOut,
        underpowered: powerNote(e, c.difference, ctx, unit),
        text: `${label} (${where}): mean ${estimateText(e, ctx, unit)}; the paper: ${intervalText(c.difference, unit)}`,
        finding: `${gapInWords(a, b, e, ctx, unit)} over ${where}; the claim needs ${a} above ${b} by ${intervalText(c.difference, unit)}${boundsAgainst(e, c.difference, ctx, unit)}`,
      };
    });
}

export const compare = defineKind({
  schema: CompareClaimSchema,
  environments: (c) => [...new Set([...(c.above ?? []), ...(c.below ?? []), ...(c.order ?? [])])],
  judge: judgeCompare,
  describe: (c, alpha) =>
    `For each pair, the mean over the shared points${ofSeries(c.series)} in ${c.range[0]}-${c.range[1]} B of the difference in ${c.metric === 'relativeThroughput' ? 'throughput relative to native (Fig. 5 averages ratios)' : c.metric === 'okRate' ? 'okay rate (messages received / sent, pooled over replicates)' : 'throughput'}, paired over points (t, k - 1 df); a pair holds when the mean is shown to be ${intervalText(c.difference, METRIC_UNIT[c.metric])}, fails when shown to be outside that. ${HOLM(alpha)}`,
});
