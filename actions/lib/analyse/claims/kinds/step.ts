// The step claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environments, interval, bytes } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { tInterval } from '../../../core/stats.ts';
import {
  FRACTION,
  HOLM,
  byPoint,
  fmt,
  intervalTest,
  intervalText,
  replicateContrast,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const StepClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('step'),
  environments,
  steps: z
    .array(z.strictObject({ series: z.string().min(1), from: bytes, to: bytes }))
    .min(1)
    .describe("The steps of the plan's grids that straddle the paper's step, each from one point to the next"),
  fall: interval
    .refine(
      ([low, high]) => low > 0 && low < 1 && (high === null || high < 1),
      'expected fractions of the value before the step, between 0 and 1',
    )
    .describe('The fall 1 - after/before, as a fraction'),
});

export type StepClaim = z.infer<typeof StepClaimSchema>;

const fallOf = (logRatio: number) => 1 - Math.exp(logRatio);

/** The fall 1 - after/before over one step of a grid: the log ratio over replicates against log(1 - fall). */
export function judgeStep(
  c: StepClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  const parts: Part[] = [];
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    for (const step of c.steps) {
      const label = `${env} ${step.from}->${step.to} B (${step.series})`;
      const mine = byPoint(points, env, c.test, step.series);
      const before = mine.get(`${step.series}|${step.from}`);
      const after = mine.get(`${step.series}|${step.to}`);
      if (!before || !after) {
        parts.push(
          untestable(
            label,
            [env],
            `${label}: ${!before ? step.from : step.to} B not measured in series ${step.series}`,
          ),
        );
        continue;
      }
      const r = replicateContrast(after, before, Math.log);
      if (r.estimate === null) {
        parts.push(untestable(label, [env], `${label}: ${r.note}`));
        continue;
      }
      // A fall in [low, high] is a log ratio in [log(1 - high), log(1 - low)].
      const [low, high] = c.fall;
      const { pIn, pOut } = intervalTest(r.estimate, [
        high === null ? Number.NEGATIVE_INFINITY : Math.log(1 - high),
        Math.log(1 - low),
      ]);
      const [lo, hi] = tInterval(r.estimate, ctx.level);
      // A fall is 1 - after/before; a negative one is a rise, said as one with its interval turned round.
      const fall = fallOf(r.estimate.value);
      const level = `${fmt(ctx.level * 100, 0)}% CI`;
      const amount = `${fmt(Math.abs(fall) * 100, 1)}%`;
      const ci =
        fall >= 0
          ? `${level} [${fmt(fallOf(hi) * 100, 1)}%, ${fmt(fallOf(lo) * 100, 1)}%]`
          : `${level} [${fmt(-fallOf(lo) * 100, 1)}%, ${fmt(-fallOf(hi) * 100, 1)}%]`;
      const change = `a ${fall >= 0 ? 'fall' : 'rise'} of ${amount}, ${ci}`;
      parts.push({
        label,
        environments: [env],
        pSupport: pIn,
        pRefute: pOut,
        text: `${label}: ${fmt(before.throughput.mean)} -> ${fmt(after.throughput.mean)} x 10^6 bits/s, ${change} (${r.method}); the paper: a fall of ${intervalText(c.fall, FRACTION)}`,
        finding: `${env} ${fall >= 0 ? 'falls' : 'rises'} ${amount} from ${step.from} to ${step.to} B (${step.series}; ${ci}); the claim needs a fall of ${intervalText(c.fall, FRACTION)}`,
      });
    }
  }
  return parts;
}

export const step = defineKind({
  schema: StepClaimSchema,
  environments: (c) => [...c.environments],
  judge: judgeStep,
  describe: (c, alpha) =>
    `Each step (${c.steps.map((s) => `${s.from}->${s.to} B of ${s.series}`).join(', ')}) per environment: the fall 1 - after/before from the log ratio over replicates (paired by replicate when possible), holding when the fall is ${intervalText(c.fall, FRACTION)}. ${HOLM(alpha)}`,
});
