import { describe, expect, it } from 'vitest';
import { mean, stdev, studentTCdf, studentTQuantile, summarize, welchTTest } from './stats.ts';

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
    expect(s.ciHalfWidth).toBeCloseTo(4.302653 * 0.1 / Math.sqrt(3), 5);
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
});
