import { describe, expect, it } from 'vitest';
import { tcpGoodputCapacityMbit } from './capacity.ts';
import { windowLimitedThroughputMbit, windowModel } from './window-model.ts';
import type { PointSummary } from './aggregate.ts';

describe('the link capacity', () => {
  it('is 100 Mbit/s x 1448/1538 for a 1500-B MTU on Ethernet', () => {
    expect(tcpGoodputCapacityMbit(100)).toBeCloseTo(94.148, 3);
    expect(tcpGoodputCapacityMbit(1000)).toBeCloseTo(941.48, 2);
  });
});

describe('the window/RTT model', () => {
  it('is window / RTT below the capacity and the capacity above it', () => {
    // 4608 B per 400 us = 92.16 Mbit/s; 8200 B per 400 us = 164 Mbit/s, capped.
    expect(windowLimitedThroughputMbit(4608, 400, 94.148)).toBeCloseTo(92.16, 6);
    expect(windowLimitedThroughputMbit(8200, 400, 94.148)).toBeCloseTo(94.148, 3);
    expect(windowLimitedThroughputMbit(8200, 400, null)).toBeCloseTo(164, 6);
    expect(() => windowLimitedThroughputMbit(4608, 0, null)).toThrow(/round-trip time must be > 0/);
  });

  const point = (
    environment: string,
    value: number,
    effective: number | null,
    test: PointSummary['test'] = 'TCP_STREAM',
  ): PointSummary => ({
    environment,
    test,
    series: 's',
    parameter: test === 'TCP_STREAM' ? 'sendSocketSize' : 'messageSize',
    value,
    pointId: `${test}:x=${value}`,
    throughput: { n: 1, mean: 90, stdev: null, ciLow: null, ciHigh: null } as unknown as PointSummary['throughput'],
    samples: [90],
    replicates: [1],
    failed: 0,
    flagged: 0,
    effectiveSendSocket: effective,
    requestedSendSocket: value,
    okRate: null,
    okRates: [],
    sendCalls: 1,
    recvCalls: 1,
    confidenceMissed: 0,
    confidenceAsked: false,
  });

  it("uses each point's effective send socket size and each environment's own RTT; environments without one get no curve", () => {
    const points = [
      point('native', 100, 4608),
      point('native', 4100, 8200),
      point('docker', 100, 4608),
      point('kvm', 100, 4608),
      point('native', 50, null),
      point('native', 1450, 4608, 'UDP_STREAM'),
    ];
    const rows = windowModel(points, { native: 400, docker: 800, kvm: null }, tcpGoodputCapacityMbit(100));
    expect(rows.map((r) => [r.environment, r.x, Math.round(r.throughputMbps * 100) / 100])).toEqual([
      ['docker', 100, 46.08],
      ['native', 100, 92.16],
      ['native', 4100, 94.15],
    ]);
  });
});
