// The rise claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environments, fraction, interval, range, series } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { pAbove, pBelow } from '../../../core/stats.ts';
import {
  FRACTION,
  HOLM,
  percentOf,
  fmt,
  intervalTest,
  intervalText,
  pct,
  pointsOf,
  replicateContrast,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const RiseClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('rise'),
  environments,
  series,
  range,
  rise: interval
    .refine(([low]) => low > -1, 'expected a rise above -1 (last/first - 1)')
    .describe('The rise from the first to the last point, last/first - 1'),
  maximumStepFall: fraction.describe(
    'No step between neighbouring points may fall by more than this fraction ("gradual")',
  ),
});

export type RiseClaim = z.infer<typeof RiseClaimSchema>;

/** A gradual rise: the last point above the first by the interval, and no step down by more than maximumStepFall. */
export function judgeRise(
  c: RiseClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
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
      const { pIn, pOut } = intervalTest(overall.estimate, [
        Math.log(1 + low),
        high === null ? null : Math.log(1 + high),
      ]);
      const change = Math.exp(overall.estimate.value) - 1;
      const rise: Part = {
        label,
        environments: [env],
        pSupport: pIn,
        pRefute: pOut,
        text: `${label}: ${fmt(first.throughput.mean)} -> ${fmt(last.throughput.mean)} x 10^6 bits/s, a ${change >= 0 ? 'rise' : 'fall'} of ${fmt(Math.abs(change) * 100, 1)}%`,
        finding: `${env} ${change >= 0 ? 'rises' : 'falls'} ${fmt(Math.abs(change) * 100, 1)}% from ${first.value} to ${last.value} B (${series}; ${fmt(first.throughput.mean)} -> ${fmt(last.throughput.mean)} x 10^6 bits/s); the claim needs a rise of ${intervalText(c.rise, FRACTION)} and no step between neighbouring sizes falling by more than ${percentOf(c.maximumStepFall)}`,
      };
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
        parts.push({
          label: stepLabel,
          environments: [env],
          pSupport: pAbove(step.estimate, floor),
          pRefute: pBelow(step.estimate, floor),
          text,
          finding: `${env} ${ps[i - 1]!.value}->${ps[i]!.value} B: ${pct(Math.exp(step.estimate.value) - 1)}`,
        });
      }
      if (worst) rise.text += `; the lowest step: ${worst.text}`;
    }
  }
  return parts;
}

export const rise = defineKind({
  schema: RiseClaimSchema,
  environments: (c) => [...c.environments],
  judge: judgeRise,
  describe: (c, alpha) =>
    `Per environment and series, over ${c.range[0]}-${c.range[1]} B: the last point above the first by ${intervalText(c.rise, FRACTION)} (log ratio over replicates), and no step from one point to the next falling by more than ${percentOf(c.maximumStepFall)} (each step must be shown not to). ${HOLM(alpha)}`,
});
