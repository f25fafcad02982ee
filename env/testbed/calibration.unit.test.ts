import { describe, expect, it } from 'vitest';
import { calibrationCheck } from './calibration.ts';

const curve = (pairs: [number, number][]) => pairs.map(([requested, mbps]) => ({ requested, mbps }));

describe('calibrationCheck', () => {
  it('passes a curve that is window-limited at -s 100 and first reaches 99% between 5000 and 7000', () => {
    const c = calibrationCheck(
      curve([
        [100, 66],
        [1100, 70],
        [4100, 88],
        [5300, 93.3],
        [6100, 94],
      ]),
      94,
    );
    expect(c).toEqual({ first99: 5300, atSmallest: 66 / 94, ok: true, problems: [] });
  });

  it('says why a curve fails: too little delay, too much, or not window-limited at the smallest size', () => {
    expect(
      calibrationCheck(
        curve([
          [100, 85],
          [4100, 93.8],
        ]),
        94,
      ).problems,
    ).toEqual(['reaches 99% already at -s 4100: too little delay', '-s 100 gives 90.4% of the plateau, above 80%']);
    expect(
      calibrationCheck(
        curve([
          [100, 30],
          [8100, 93.9],
        ]),
        94,
      ).problems,
    ).toEqual(['reaches 99% only at -s 8100: too much delay']);
    expect(
      calibrationCheck(
        curve([
          [100, 30],
          [8100, 90],
        ]),
        94,
      ),
    ).toMatchObject({ first99: null, ok: false, problems: ['never reaches 99% of the plateau'] });
  });

  it('takes the first size that reaches 99%, even when a larger one dips below again', () => {
    expect(
      calibrationCheck(
        curve([
          [100, 60],
          [5100, 93.2],
          [5300, 92],
          [7100, 94],
        ]),
        94,
      ).first99,
    ).toBe(5100);
  });

  it('refuses an empty curve or a plateau of zero', () => {
    expect(() => calibrationCheck([], 94)).toThrow(/needs points and a positive plateau/);
    expect(() => calibrationCheck(curve([[100, 1]]), 0)).toThrow(/positive plateau/);
  });
});
