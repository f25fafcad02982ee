import { describe, expect, it } from 'vitest';
import {
  chiSquareCdf,
  chiSquareQuantile,
  holmAdjust,
  isotonicFit,
  mean,
  meanEstimate,
  pAbove,
  pBelow,
  stdev,
  studentTCdf,
  studentTQuantile,
  summarize,
  tInterval,
  welchEstimate,
  welchTTest,
} from './stats.ts';

describe('stats', () => {
  it('mean and sample standard deviation', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(stdev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 5);
    expect(stdev([3])).toBe(0);
  });
  it('Student t quantiles match the tables', () => {
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302653, 5);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262157, 5);
    expect(studentTQuantile(0.995, 4)).toBeCloseTo(4.604095, 5);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
  });
  it('remembered quantiles answer each (p, df) pair, not just the first asked', () => {
    // Asked in an order that would expose a cache keyed on only one of p and df.
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302653, 5);
    expect(studentTQuantile(0.995, 2)).toBeCloseTo(9.924843, 5);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262157, 5);
    expect(studentTQuantile(0.975, 2.5)).toBeGreaterThan(studentTQuantile(0.975, 3));
    expect(studentTQuantile(0.975, 2.5)).toBeLessThan(studentTQuantile(0.975, 2));
    expect(() => studentTQuantile(1, 2)).toThrow(/p must be in \(0, 1\)/);
  });
  it('t confidence interval of 3 replicates', () => {
    const s = summarize([94.0, 94.2, 94.1]);
    expect(s.mean).toBeCloseTo(94.1, 10);
    expect(s.ciHalfWidth).toBeCloseTo((4.302653 * 0.1) / Math.sqrt(3), 5);
    expect(summarize([1]).ciHalfWidth).toBeNull();
  });
  it("Welch's test against a reference value", () => {
    // By hand: means 19.775 and 23.25, variances 1.129167 and 1.43, n = 4 each:
    // se = sqrt(1.129167/4 + 1.43/4) = 0.799870, t = -3.475/se = -4.34446,
    // Welch-Satterthwaite df = 0.639792^2 / ((0.282292^2 + 0.3575^2) / 3) = 5.91824.
    const r = welchTTest([19.1, 20.3, 21.0, 18.7], [22.4, 23.9, 22.1, 24.6]);
    expect(r.t).toBeCloseTo(-4.34446, 4);
    expect(r.df).toBeCloseTo(5.91824, 4);
    // t tables at df = 6: |t| = 3.707 gives p = 0.01 and 5.208 gives p = 0.002.
    expect(r.p!).toBeGreaterThan(0.002);
    expect(r.p!).toBeLessThan(0.01);
    // Consistent with the CDF it is built on.
    expect(r.p!).toBeCloseTo(2 * (1 - studentTCdf(4.34446, 5.91824)), 6);
  });
  it('says when replicates are too few', () => {
    expect(welchTTest([1], [2, 3]).p).toBeNull();
    expect(welchTTest([1], [2, 3]).note).toMatch(/too few replicates/);
  });

  it('chi-square CDF and quantiles match the tables', () => {
    expect(chiSquareCdf(5.991465, 2)).toBeCloseTo(0.95, 6);
    expect(chiSquareCdf(18.307038, 10)).toBeCloseTo(0.95, 6);
    expect(chiSquareCdf(0.351846, 3)).toBeCloseTo(0.05, 6);
    expect(chiSquareCdf(124.342113, 100)).toBeCloseTo(0.95, 6);
    expect(chiSquareQuantile(0.95, 2)).toBeCloseTo(5.991465, 5);
    expect(chiSquareQuantile(0.05, 76)).toBeCloseTo(56.92, 2);
  });
  it("one-sided p-values and intervals of a t estimate agree with Welch's test", () => {
    const a = [10.1, 10.4, 9.9, 10.2];
    const b = [9.0, 9.6, 9.3];
    const e = welchEstimate(a, b)!;
    const w = welchTTest(a, b);
    expect(e.value / e.se).toBeCloseTo(w.t, 10);
    expect(e.df).toBeCloseTo(w.df, 10);
    expect(2 * pAbove(e, 0)).toBeCloseTo(w.p!, 10);
    expect(pAbove(e, 0) + pBelow(e, 0)).toBeCloseTo(1, 12);
    const [lo, hi] = tInterval(meanEstimate([94.0, 94.2, 94.1])!, 0.95);
    expect((hi - lo) / 2).toBeCloseTo(summarize([94.0, 94.2, 94.1]).ciHalfWidth!, 10);
    // Without spread the estimate is exact: above or not.
    expect(pAbove({ value: 1, se: 0, df: 2 }, 0)).toBe(0);
    expect(pBelow({ value: 1, se: 0, df: 2 }, 0)).toBe(1);
    expect(meanEstimate([1])).toBeNull();
  });
  it('isotonic regression pools adjacent violators, weighted', () => {
    expect(isotonicFit([1, 3, 2, 4])).toEqual([1, 2.5, 2.5, 4]);
    expect(isotonicFit([5, 1, 1])).toEqual([7 / 3, 7 / 3, 7 / 3]);
    expect(isotonicFit([1, 3, 2], [1, 1, 3])).toEqual([1, 2.25, 2.25]);
    expect(isotonicFit([1, 2, 3])).toEqual([1, 2, 3]);
  });
  it('Holm adjusts in the input order', () => {
    expect(holmAdjust([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
  });
});
