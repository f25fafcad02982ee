// The order of a blocked run: environments in a balanced (Williams) order block by block, and the
// blocks a precision target adds: paired across environments, the widest points first, within the
// plan's time budget.

import { describe, expect, it } from 'vitest';
import { validatePlan } from './plan.ts';
import { blockPoints, blockTurns, environmentOrder, extraBudget, scheduleSettings, williamsRows } from './schedule.ts';

describe('williamsRows', () => {
  it.each([1, 2, 3, 4, 5, 6, 7])(
    'for %i items: a Latin square whose every item follows every other equally often',
    (n) => {
      const rows = williamsRows(n);
      expect(rows).toHaveLength(n % 2 === 0 ? n : 2 * n);
      const position = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      const follows = new Map<string, number>();
      for (const row of rows) {
        expect([...row].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        row.forEach((item, i) => position[item]![i]!++);
        for (let i = 1; i < n; i++)
          follows.set(`${row[i - 1]}>${row[i]}`, (follows.get(`${row[i - 1]}>${row[i]}`) ?? 0) + 1);
      }
      // Each item in each position equally often over the rows...
      for (const counts of position) expect(new Set(counts)).toEqual(new Set([rows.length / n]));
      // ... and each ordered pair of items adjacent equally often (n(n-1) pairs).
      if (n > 1) {
        expect(follows.size).toBe(n * (n - 1));
        expect(new Set(follows.values()).size).toBe(1);
      }
    },
  );
});

describe('environmentOrder', () => {
  const four = ['native', 'docker', 'kvm', 'osv'];
  it('puts each of four environments in each position once in four blocks (not native 1st, 4th, 3rd)', () => {
    const orders = [1, 2, 3, 4].map((b) => environmentOrder(four, b));
    expect(orders).toEqual([
      ['native', 'docker', 'osv', 'kvm'],
      ['docker', 'kvm', 'native', 'osv'],
      ['kvm', 'osv', 'docker', 'native'],
      ['osv', 'native', 'kvm', 'docker'],
    ]);
    for (const e of four) expect(orders.map((o) => o.indexOf(e)).sort()).toEqual([0, 1, 2, 3]);
    expect(environmentOrder(four, 5)).toEqual(orders[0]);
  });

  it('alternates two environments, and keeps the rotation for three (each first once in three blocks)', () => {
    expect([1, 2, 3].map((b) => environmentOrder(['a', 'b'], b))).toEqual([
      ['a', 'b'],
      ['b', 'a'],
      ['a', 'b'],
    ]);
    expect([1, 2, 3].map((b) => environmentOrder(['a', 'b', 'c'], b).join(''))).toEqual(['abc', 'bca', 'cab']);
    expect([4, 5, 6].map((b) => environmentOrder(['a', 'b', 'c'], b).join(''))).toEqual(['cba', 'acb', 'bac']);
  });
});

describe('the blocks a precision target adds', () => {
  const plan = validatePlan({
    formatVersion: 2,
    name: 'p',
    testLengthSeconds: 2,
    replicates: 3,
    order: { randomize: false, seed: 1 },
    precision: { halfWidthPercent: 1, maxReplicates: 6, budgetMinutes: null },
    sweeps: [{ test: 'TCP_STREAM', series: 's', vary: 'sendSocketSize', from: 100, to: 4100, step: 1000 }],
  });
  const settings = scheduleSettings(plan);
  const id = (s: number) => `TCP_STREAM:sendSocketSize=${s}`;
  /** Three blocks of values per point: steady at 94, except the points given (their three values). */
  const measuredWith = (noisy: Record<number, [number, number, number]>) =>
    new Map(
      [100, 1100, 2100, 3100, 4100].map((s) => [
        id(s),
        new Map((noisy[s] ?? [94, 94, 94]).map((v, i) => [i + 1, v] as const)),
      ]),
    );

  it('measures a point wide in one environment in every environment, in the same block, in balanced order', () => {
    const measured = new Map([
      ['native', measuredWith({ 2100: [80, 94, 88] })],
      ['docker', measuredWith({})],
    ]);
    const turns = blockTurns(plan, settings, ['native', 'docker'], 4, new Set(), measured);
    expect(turns.map((t) => [t.environment, t.tasks.map((x) => x.point.value)])).toEqual([
      ['docker', [2100]],
      ['native', [2100]],
    ]);
    expect(turns.every((t) => t.block === 4 && t.tasks.every((x) => x.replicate === 4))).toBe(true);
  });

  it('spends the time budget on the widest points first, then stops adding blocks', () => {
    // 1 minute of 2 s tests: 30 extra measurements per environment; here a budget of 4 s, two.
    const tight = { ...settings, precision: { ...settings.precision!, budgetMinutes: 4 / 60 } };
    expect(extraBudget(tight)).toBe(2);
    expect(extraBudget(settings)).toBe(Number.POSITIVE_INFINITY);
    const wide = { 100: [90, 94, 92], 1100: [70, 94, 82], 3100: [93, 94, 93.5] } as Record<
      number,
      [number, number, number]
    >;
    const measured = new Map([['native', measuredWith(wide)]]);
    expect(blockPoints(plan, tight, ['native'], 4, measured).map((p) => p.value)).toEqual([100, 1100]);
    expect(blockPoints(plan, settings, ['native'], 4, measured).map((p) => p.value)).toEqual([100, 1100, 3100]);
    // Block 4 took the budget: block 5 gets nothing even though the points are still wide.
    expect(blockPoints(plan, tight, ['native'], 5, measured)).toEqual([]);
    // A budget of 4 measurements: block 4 takes its 3, block 5 the one left, for the widest point.
    const four = { ...settings, precision: { ...settings.precision!, budgetMinutes: 8 / 60 } };
    expect(blockPoints(plan, four, ['native'], 4, measured)).toHaveLength(3);
    expect(blockPoints(plan, four, ['native'], 5, measured).map((p) => p.value)).toEqual([1100]);
  });
});
