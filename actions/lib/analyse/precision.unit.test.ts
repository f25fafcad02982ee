import { describe, expect, it } from 'vitest';
import type { PointSummary } from './aggregate.ts';
import { precisionLines, precisionReached } from './precision.ts';
import { summarize } from '../core/stats.ts';
import { tcpGoodputCapacityMbit, udpGoodputCapacityMbit } from './capacity.ts';

function point(environment: string, value: number, samples: number[]): PointSummary {
  return {
    environment,
    test: 'TCP_STREAM',
    series: 's',
    parameter: 'sendSocketSize',
    value,
    pointId: `TCP_STREAM:sendSocketSize=${value}`,
    throughput: summarize(samples),
    samples,
    replicates: samples.map((_, i) => i + 1),
    failed: 0,
    flagged: 0,
    effectiveSendSocket: null,
    requestedSendSocket: value,
    okRate: null,
    okRates: [],
    sendCalls: 0,
    recvCalls: 0,
    confidenceMissed: 0,
    confidenceAsked: false,
  };
}

// 95% half-width in percent of the mean of [m - d, m, m + d]: t(0.975, 2) * d / sqrt(3) / m.
const width = (m: number, d: number) => (100 * 4.302652729911275 * d) / Math.sqrt(3) / m;

describe('precisionReached', () => {
  const points = [
    point('native', 100, [99, 100, 101]),
    point('native', 200, [98, 100, 102]),
    point('native', 300, [90, 100, 110]),
    point('docker', 100, [50]),
    point('docker', 200, [49, 50, 51]),
    point('kvm', 100, [40]),
  ];

  it('gives the median and the worst half-width in percent of the mean, naming the worst point', () => {
    const [native] = precisionReached(points, ['native']);
    expect(native!.points).toBe(3);
    expect(native!.withoutInterval).toBe(0);
    expect(native!.medianHalfWidthPercent).toBeCloseTo(width(100, 2), 6);
    expect(native!.worstHalfWidthPercent).toBeCloseTo(width(100, 10), 6);
    expect(native!.worstPoint).toBe('TCP_STREAM:sendSocketSize=300');
  });

  it('leaves single-replicate points out of the median and the worst, counting them', () => {
    const [docker, kvm] = precisionReached(points, ['docker', 'kvm']);
    expect(docker).toMatchObject({ points: 2, withoutInterval: 1, worstPoint: 'TCP_STREAM:sendSocketSize=200' });
    expect(docker!.medianHalfWidthPercent).toBeCloseTo(width(50, 1), 6);
    expect(kvm).toEqual({
      environment: 'kvm',
      points: 1,
      withoutInterval: 1,
      medianHalfWidthPercent: null,
      worstHalfWidthPercent: null,
      worstPoint: null,
    });
  });

  it("prints one line per environment beside the plan's target", () => {
    const precision = precisionReached(points, ['native', 'docker', 'kvm']);
    const lines = precisionLines(precision, 5);
    expect(lines[0]).toContain('target 5%');
    expect(lines[1]).toMatch(
      /^ {2}native {2}median 4\.97%, worst 24\.84% \(TCP_STREAM:sendSocketSize=300\) over 3 points; at least half of the points within the target$/,
    );
    expect(lines[2]).toContain('1 of 2 points without an interval');
    expect(lines[3]).toContain('no interval');
    expect(precisionLines(precision, null)[0]).toContain('no precision target in the plan');
    expect(precisionLines(precisionReached([point('native', 100, [99, 100, 101])], ['native']), 5)[1]).toContain(
      'all of the points within the target',
    );
  });
});

describe('link capacity', () => {
  it('is 94.148 Mbit/s of TCP goodput at 100 Mbit/s', () => {
    expect(tcpGoodputCapacityMbit(100)).toBeCloseTo(94.148, 3);
  });

  it('gives UDP payload goodput per datagram size, fragments paying their own headers', () => {
    // 50 B: 8 UDP + 20 IP + 38 Ethernet framing per frame.
    expect(udpGoodputCapacityMbit(100, 50)).toBeCloseTo((100 * 50) / 116, 9);
    expect(udpGoodputCapacityMbit(100, 1472)).toBeCloseTo((100 * 1472) / 1538, 9);
    // 1473 B: two fragments (1480 + 1 B of IP payload; the second padded to the 46 B minimum).
    expect(udpGoodputCapacityMbit(100, 1473)).toBeCloseTo((100 * 1473) / (1538 + 46 + 38), 9);
    expect(() => udpGoodputCapacityMbit(100, 0)).toThrow(/datagram size must be positive, got 0/);
  });
});
