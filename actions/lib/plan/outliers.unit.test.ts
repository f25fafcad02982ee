// The replicate-consistency rule on values seen in real runs: the disturbed native TCP points of a
// noisy hour (65.8 and 57.7 Mbit/s among replicates near 94), and the scatter a quiet run shows.

import { describe, expect, it } from 'vitest';
import { replicateOutliers } from './outliers.ts';

const point = (...values: number[]) => new Map(values.map((v, i) => [i + 1, v] as const));

describe('replicateOutliers', () => {
  it('finds the replicate a disturbance dragged down, and says by how much', () => {
    const found = replicateOutliers(point(93.9, 94.0, 57.7, 93.8));
    expect(found.map((o) => o.replicate)).toEqual([3]);
    expect(found[0]!.deviations).toBeLessThan(-3.5);
    expect(found[0]!.reason).toMatch(
      /^replicate 3: 57\.7 is [\d.]+ robust SDs below the median 93\.85 of its point's 4 clean replicates \(> 3\.5\)$/,
    );
    expect(replicateOutliers(point(94.0, 65.8, 93.9)).map((o) => o.replicate)).toEqual([2]);
  });

  it('leaves a point alone whose replicates scatter like a quiet run (within 1.75% of the median)', () => {
    // The committed run's window-limited native points: a replicate SD near 0.8%.
    expect(replicateOutliers(point(69.1, 69.9, 68.7, 70.0))).toEqual([]);
    // Identical replicates but one 1% off: under the floor, not an outlier.
    expect(replicateOutliers(point(94, 94, 94, 93.06))).toEqual([]);
    // Identical but one 3% off: an outlier even though the MAD is 0.
    expect(replicateOutliers(point(94, 94, 94, 91.2)).map((o) => o.replicate)).toEqual([4]);
  });

  it('needs three clean replicates, and scales with a noisy point (a TCG guest)', () => {
    expect(replicateOutliers(point(94, 50))).toEqual([]);
    expect(replicateOutliers(point(53.9, 58.1, 49.5, 55.0, 51.2))).toEqual([]);
    expect(replicateOutliers(point(53.9, 58.1, 49.5, 55.0, 51.2, 20.1)).map((o) => o.value)).toEqual([20.1]);
  });
});
