// The delay a run gets when --delay does not say: the paper plan on the embedded testbed gets the
// calibrated one (its TCP claims need the window-limited regime), anything else none.

import { describe, expect, it } from 'vitest';
import { defaultOneWayDelay } from './run.ts';
import { CALIBRATED_ONE_WAY_DELAY_US } from '../../env/testbed/testbed.ts';

describe('the default one-way delay of virtnet run', () => {
  it('is the calibrated delay for the paper plan on the embedded testbed', () => {
    expect(CALIBRATED_ONE_WAY_DELAY_US).toBeGreaterThan(0);
    expect(defaultOneWayDelay('paper', { external: false })).toBe(CALIBRATED_ONE_WAY_DELAY_US);
    expect(defaultOneWayDelay('modern', { external: false })).toBe(CALIBRATED_ONE_WAY_DELAY_US);
  });
  it('is none for other plans, and for a real link (--server)', () => {
    expect(defaultOneWayDelay('quick', { external: false })).toBe(0);
    expect(defaultOneWayDelay('paper', { external: true })).toBe(0);
  });
});
