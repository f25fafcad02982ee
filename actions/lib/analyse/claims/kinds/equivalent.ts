// The equivalent claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, fraction, range, series } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { meanEstimate } from '../../../core/stats.ts';
import {
  gapInWords,
  HOLM,
  ofSeries,
  percentOf,
  METRIC_UNIT,
  PERCENT,
  estimateText,
  fmt,
  intervalTest,
  pairedOverPoints,
  rangeText,
  seriesText,
  show,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const EquivalentClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('equivalent'),
  environments: z.array(environment).min(2).describe('Every pair of these is alike'),
  series,
  range,
  metric: z.enum(['throughput', 'okRate']),
  margin: z
    .union([z.strictObject({ relative: fraction }), z.strictObject({ absolute: z.number().gt(0) })])
    .describe(
      'How far apart "alike" may be on average over the range: a fraction of the second environment\'s value, or an absolute amount',
    ),
});

export type EquivalentClaim = z.infer<typeof EquivalentClaimSchema>;

/** Every pair alike: two one-sided tests (TOST) of the mean per-point difference against +-margin. */
export function judgeEquivalent(
  c: EquivalentClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
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
      const note =
        r.note ?? (relative && r.ratios.some((v) => !Number.isFinite(v)) ? `a point where ${b} is 0: no ratio` : null);
      if (note) {
        parts.push(untestable(label, [a, b], `${label} (${where}): ${note}`));
        continue;
      }
      const e = meanEstimate(relative ? r.ratios : r.diffs)!;
      const { pIn, pOut } = intervalTest(e, [-m, m]);
      parts.push({
        label,
        environments: [a, b],
        pSupport: pIn,
        pRefute: pOut,
        finding: `${gapInWords(a, b, e, ctx, unit, `mean ${relative ? 'relative ' : ''}difference `)} over ${where}; alike means within +-${relative ? `${fmt(m * 100, 1)}%` : show(unit, m)}`,
        text: `${label} (${where}): mean ${relative ? 'relative ' : ''}difference ${estimateText(e, ctx, unit)}; alike within +-${relative ? `${fmt(m * 100, 1)}%` : show(unit, m)}`,
      });
    }
  }
  return parts;
}

export const equivalent = defineKind({
  schema: EquivalentClaimSchema,
  environments: (c) => [...c.environments],
  judge: judgeEquivalent,
  describe: (c, alpha) =>
    `Every pair: the mean over shared points${ofSeries(c.series)} in ${c.range[0]}-${c.range[1]} B of the ${'relative' in c.margin ? `relative difference (a/b - 1) in ${c.metric}` : `difference in ${c.metric}`}, by two one-sided tests (TOST) against +-${'relative' in c.margin ? percentOf(c.margin.relative) : show(METRIC_UNIT[c.metric], c.margin.absolute)}: alike when shown inside, not alike when shown outside. ${HOLM(alpha)}`,
});
