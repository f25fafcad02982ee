// The fades claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, environments, fraction, range } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { mean, meanEstimate, pAbove, pBelow, welchEstimate } from '../../../core/stats.ts';
import {
  HOLM,
  percentOf,
  METRIC_UNIT,
  fmt,
  fmtP,
  pairedOverPoints,
  show,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const FadesClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('fades'),
  above: environment,
  below: environments,
  metric: z.enum(['throughput', 'okRate']),
  inside: range.describe('Where the advantage is claimed'),
  outside: range.describe('Where it is claimed to have faded'),
  fade: fraction.describe('Faded: the mean gap outside is less than (1 - fade) times the mean gap inside'),
});

export type FadesClaim = z.infer<typeof FadesClaimSchema>;

/** An advantage shown inside that fades outside: the outside gap below (1 - fade) x the inside gap (Welch over the per-point gaps). */
export function judgeFades(
  c: FadesClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  if (!present.has(c.above)) return [];
  const unit = METRIC_UNIT[c.metric];
  return c.below
    .filter((b) => present.has(b))
    .map((b) => {
      const label = `${c.above} - ${b}`;
      const inside = pairedOverPoints(points, c.test, undefined, c.inside, c.above, b, c.metric);
      const outside = pairedOverPoints(points, c.test, undefined, c.outside, c.above, b, c.metric);
      if (inside.note || outside.note)
        return untestable(
          label,
          [c.above, b],
          `${label}: ${inside.note ? `inside ${c.inside[0]}-${c.inside[1]} B: ${inside.note}` : `outside ${c.outside[0]}-${c.outside[1]} B: ${outside.note}`}`,
        );
      const gapIn = meanEstimate(inside.diffs)!;
      const shown = pAbove(gapIn, 0);
      const gaps = `mean gap ${show(unit, mean(inside.diffs))} in ${c.inside[0]}-${c.inside[1]} B (${inside.diffs.length} points), ${show(unit, mean(outside.diffs))} in ${c.outside[0]}-${c.outside[1]} B (${outside.diffs.length} points)`;
      if (!(shown < ctx.alpha))
        return {
          label,
          environments: [c.above, b],
          pSupport: null,
          pRefute: null,
          note: 'no advantage shown',
          text: `${label}: ${gaps}; no advantage shown inside (p ${fmtP(shown)}): nothing to fade`,
        };
      // Faded: mean(outside) - (1 - fade) x mean(inside) < 0.
      const e = welchEstimate(outside.diffs, inside.diffs, 1 - c.fade)!;
      return {
        label,
        environments: [c.above, b],
        pSupport: pBelow(e, 0),
        pRefute: pAbove(e, 0),
        text: `${label}: ${gaps}; faded means the outside gap is below ${fmt((1 - c.fade) * 100, 0)}% of the inside gap`,
      };
    });
}

export const fades = defineKind({
  schema: FadesClaimSchema,
  environments: (c) => [c.above, ...c.below],
  judge: judgeFades,
  describe: (c, alpha) =>
    `Per pair: an advantage of ${c.above} in ${c.inside[0]}-${c.inside[1]} B must be shown first (mean per-point gap above 0), else inconclusive; it has faded when the mean gap in ${c.outside[0]}-${c.outside[1]} B is below ${percentOf(1 - c.fade)} of the inside gap (Welch over the per-point gaps). ${HOLM(alpha)}`,
});
