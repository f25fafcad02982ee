import { describe, expect, it } from 'vitest';
import { testHost, testManifest } from '../testing/diff-fixtures.ts';
import { linkSummary } from './tables.ts';

describe('linkSummary', () => {
  it('shows the one-way delay, the round trip it adds, and the sender congestion control', () => {
    const m = testManifest();
    const delayed = testManifest({ link: { ...m.link!, oneWayDelayMicroseconds: 150 } });
    expect(linkSummary(delayed)).toContain('150 us one-way delay each direction (round trip +0.3 ms)');
    expect(linkSummary(delayed)).toContain('client TCP congestion control cubic');
  });

  it('says "no added delay" for a run without a delay line, also one recorded before it existed', () => {
    const m = testManifest({ hosts: { client: testHost('client', { sysctls: {} }), server: null } });
    expect(linkSummary(m)).toContain('no added delay');
    expect(linkSummary(m)).not.toContain('congestion control');
    expect(linkSummary(testManifest({ link: { ...m.link!, oneWayDelayMicroseconds: 0 } }))).toContain('no added delay');
  });
});
