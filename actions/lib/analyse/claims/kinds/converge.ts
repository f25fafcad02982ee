// The converge claim kind: its schema, its judge and how it is judged in words.

import { z } from 'zod';
import type { PointSummary } from '../../aggregate.ts';
import { common, environment, environments, fraction, range } from '../fields.ts';
import { defineKind } from '../kind.ts';
import { holmAdjust, pAbove, pBelow, type TEstimate } from '../../../core/stats.ts';
import {
  HOLM,
  percentOf,
  byPoint,
  fmt,
  fmtP,
  intervalTest,
  pct,
  pointKey,
  pointsOf,
  replicateContrast,
  untestable,
  type Part,
  type RuleContext,
} from '../rules.ts';

export const ConvergeClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('converge'),
  environments,
  baseline: environment,
  diverge: range.describe("Where the curves must first be shown to diverge from the baseline's"),
  converge: range.describe('Where every point must lie within the tolerance of the baseline'),
  tolerance: fraction.describe('Largest relative deviation from the baseline that counts as converged'),
});

export type ConvergeClaim = z.infer<typeof ConvergeClaimSchema>;

/** p that |ratio - 1| > tol at a point (two one-sided tests, Bonferroni over the two sides). */
function pOutside(e: TEstimate, tol: number): number {
  return Math.min(1, 2 * Math.min(pAbove(e, Math.log(1 + tol)), pBelow(e, Math.log(1 - tol))));
}

/**
 * Per environment: a divergence from the baseline by more than the tolerance at some point of the
 * divergence range (Holm across those points) must be shown first; then the worst point of the
 * convergence range decides: every point within the tolerance (each by two one-sided tests) holds,
 * any point clearly outside fails.
 */
export function judgeConverge(
  c: ConvergeClaim,
  points: readonly PointSummary[],
  present: ReadonlySet<string>,
  ctx: RuleContext,
): Part[] {
  if (!present.has(c.baseline)) return [];
  const parts: Part[] = [];
  const baseline = byPoint(points, c.baseline, c.test, undefined);
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const contrasts = (range: readonly [number, number]) =>
      pointsOf(points, env, c.test, undefined, range)
        .filter((p) => baseline.has(pointKey(p)))
        .map((p) => ({ p, r: replicateContrast(p, baseline.get(pointKey(p))!, Math.log) }));
    const before = contrasts(c.diverge);
    const after = contrasts(c.converge);
    const tested = (list: typeof before) =>
      list.filter((x): x is { p: PointSummary; r: { estimate: TEstimate; method: string } } => x.r.estimate !== null);
    const untested = [...before, ...after].find((x) => x.r.estimate === null);
    if (untested && untested.r.estimate === null) {
      parts.push(untestable(env, [env, c.baseline], `${env}: ${untested.r.note}`));
      continue;
    }
    const b = tested(before);
    const a = tested(after);
    if (a.length === 0) {
      parts.push(
        untestable(
          env,
          [env, c.baseline],
          `${env}: no points shared with ${c.baseline} in ${c.converge[0]}-${c.converge[1]} B`,
        ),
      );
      continue;
    }
    const dev = (e: TEstimate) => Math.exp(e.value) - 1;
    const pDiverge = holmAdjust(b.map((x) => pOutside(x.r.estimate, c.tolerance)));
    const widest = b.reduce<(typeof b)[number] | null>(
      (w, x) => (w === null || Math.abs(dev(x.r.estimate)) > Math.abs(dev(w.r.estimate)) ? x : w),
      null,
    );
    const diverged = pDiverge.some((p) => p < ctx.alpha);
    const pIn = a.map((x) => intervalTest(x.r.estimate, [Math.log(1 - c.tolerance), Math.log(1 + c.tolerance)]).pIn);
    const worstIndex = pIn.indexOf(Math.max(...pIn));
    const worst = a[worstIndex]!;
    const pOut = Math.min(...holmAdjust(a.map((x) => pOutside(x.r.estimate, c.tolerance))));
    const largest = a.reduce((w, x) => (Math.abs(dev(x.r.estimate)) > Math.abs(dev(w.r.estimate)) ? x : w), a[0]!);
    const divergence = widest
      ? `largest deviation below ${c.diverge[1]} B: ${pct(dev(widest.r.estimate))} at ${widest.p.value} B (${widest.p.series}), ${diverged ? `beyond +-${fmt(c.tolerance * 100, 0)}% (Holm p ${fmtP(Math.min(...pDiverge))})` : 'not shown beyond the tolerance'}`
      : `no points below ${c.diverge[1]} B`;
    const convergence = `beyond ${c.converge[0]} B (${a.length} points): largest deviation ${pct(dev(largest.r.estimate))} at ${largest.p.value} B (${largest.p.series}); least certainly within +-${fmt(c.tolerance * 100, 0)}%: ${worst.p.value} B (${worst.p.series}), p ${fmtP(pIn[worstIndex]!)}`;
    const text = `${env} vs ${c.baseline}: ${divergence}; ${convergence}`;
    if (!diverged) {
      parts.push({
        label: env,
        environments: [env, c.baseline],
        text: `${text}. No divergence shown: nothing to converge from`,
        pSupport: null,
        pRefute: null,
        note: 'no divergence shown',
      });
      continue;
    }
    parts.push({ label: env, environments: [env, c.baseline], pSupport: Math.max(...pIn), pRefute: pOut, text });
  }
  return parts;
}

export const converge = defineKind({
  schema: ConvergeClaimSchema,
  environments: (c) => [c.baseline, ...c.environments],
  judge: judgeConverge,
  describe: (c, alpha) =>
    `Per environment against ${c.baseline} (log ratio over replicates at each point): a deviation beyond +-${percentOf(c.tolerance)} must first be shown somewhere in ${c.diverge[0]}-${c.diverge[1]} B (Holm across those points), else inconclusive (nothing to converge from); then the worst point in ${c.converge[0]}-${c.converge[1]} B decides: every point within +-${percentOf(c.tolerance)} by two one-sided tests holds, any point clearly outside fails. ${HOLM(alpha)}`,
});
