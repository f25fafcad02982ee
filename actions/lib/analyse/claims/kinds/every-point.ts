// The every-point claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, interval, range, series } from '../fields.ts';
import { defineKind } from '../kind.ts';
import {
  gapInWords,
  HOLM,
  powerNote,
  ofSeries,
  MBIT,
  byPoint,
  estimateText,
  intervalTest,
  intervalText,
  pointKey,
  pointsOf,
  replicateContrast,
  seriesText,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const EveryPointClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('every-point'),
  series,
  parts: z
    .array(z.strictObject({ above: environment, below: environment, range }))
    .min(1)
    .describe("At every point of each part's range, above beats below"),
  difference: interval.describe('The gap at each point, 10^6 bits/s'),
});

export type EveryPointClaim = z.infer<typeof EveryPointClaimSchema>;

/** At every shared point of each part's range, above - below over replicates, against the interval. */
export function judgeEveryPoint(
  c: EveryPointClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  const parts: Part[] = [];
  for (const part of c.parts) {
    if (!present.has(part.above) || !present.has(part.below)) continue;
    const below = byPoint(points, part.below, c.test, c.series, part.range);
    const shared = pointsOf(points, part.above, c.test, c.series, part.range).filter((p) => below.has(pointKey(p)));
    const label = `${part.above} - ${part.below}`;
    if (shared.length === 0) {
      parts.push(
        untestable(
          label,
          [part.above, part.below],
          `${label} (${seriesText(c.series)}, ${part.range[0]}-${part.range[1]} B): no shared points`,
        ),
      );
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
      parts.push({
        label: at,
        environments: [part.above, part.below],
        pSupport: pIn,
        pRefute: pOut,
        underpowered: powerNote(r.estimate, c.difference, ctx, MBIT),
        text: `${at}: ${estimateText(r.estimate, ctx, MBIT)} (${r.method})`,
        finding: `at ${p.value} B (${p.series}) ${gapInWords(part.above, part.below, r.estimate, ctx, MBIT, '')}`,
      });
    }
  }
  return parts;
}

export const everyPoint = defineKind({
  schema: EveryPointClaimSchema,
  environments: (c) => [...new Set(c.parts.flatMap((p) => [p.above, p.below]))],
  judge: judgeEveryPoint,
  describe: (c, alpha) =>
    `At every shared point${ofSeries(c.series)} of each part's range, the difference over replicates (paired by replicate when both have the same replicates, else Welch) must be ${intervalText(c.difference, MBIT)}; one point clearly outside refutes. ${HOLM(alpha)}`,
});
