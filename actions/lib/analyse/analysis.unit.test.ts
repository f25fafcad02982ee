import { describe, expect, it } from 'vitest';
import type { PointSummary } from './aggregate.ts';
import {
  udpAnomalies,
  compareRange,
  comparePoints,
  relativeThroughput,
  restrictedAverage,
  signedAreas,
  socketSizes,
  udpDelivery,
} from './analysis.ts';
import { summarize } from '../core/stats.ts';

function point(environment: string, value: number, samples: number[], extra: Partial<PointSummary> = {}): PointSummary {
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
    effectiveSendSocket: Math.max(2 * value, 4608),
    requestedSendSocket: value,
    okRate: null,
    okRates: [],
    sendCalls: 0,
    recvCalls: 0,
    confidenceMissed: 0,
    confidenceAsked: false,
    ...extra,
  };
}

describe('relativeThroughput', () => {
  it('divides by native at the same point and propagates both intervals (delta method)', () => {
    const rel = relativeThroughput([point('native', 100, [99, 100, 101]), point('osv', 100, [109, 110, 111])]);
    const osv = rel.find((r) => r.environment === 'osv')!;
    expect(osv.relative).toBeCloseTo(1.1, 10);
    const h = summarize([99, 100, 101]).ciHalfWidth!;
    expect(osv.halfWidth).toBeCloseTo(1.1 * Math.hypot(h / 110, h / 100), 10);
    expect(rel.find((r) => r.environment === 'native')!.relative).toBe(1);
  });

  it('gives no interval with one replicate, and skips points native lacks', () => {
    const rel = relativeThroughput([point('native', 100, [100]), point('osv', 100, [110]), point('osv', 200, [1, 2])]);
    expect(rel.filter((r) => r.environment === 'osv')).toHaveLength(1);
    expect(rel.find((r) => r.environment === 'osv')!.halfWidth).toBeNull();
  });
});

describe('restrictedAverage and signedAreas', () => {
  const pts = [0, 1000, 2000, 7000].flatMap((x) => [
    point('native', x, [100, 100]),
    point('osv', x, x <= 2000 ? [110, 110] : [100, 100]),
  ]);
  it('averages relative throughput inside the range only', () => {
    const avg = restrictedAverage(relativeThroughput(pts), 'TCP_STREAM', 0, 6000).find((a) => a.environment === 'osv')!;
    expect(avg.points).toBe(3);
    expect(avg.average).toBeCloseTo(1.1, 10);
  });
  it('integrates the gap with the trapezoid rule: positive above native', () => {
    const area = signedAreas(pts, 'TCP_STREAM', 0, 6000)[0]!;
    expect(area.area).toBeCloseTo(10 * 2000, 10);
    expect(area.meanGap).toBeCloseTo(10, 10);
    const below = signedAreas(
      pts.map((p) => (p.environment === 'osv' ? point('osv', p.value, [90, 90]) : p)),
      'TCP_STREAM',
      0,
      6000,
    )[0]!;
    expect(below.area).toBeCloseTo(-20000, 10);
  });
});

describe('comparisons', () => {
  it('per point: Welch, with a note when replicates are too few', () => {
    const c = comparePoints(
      [point('osv', 100, [110, 111, 109]), point('native', 100, [100, 101, 99])],
      'TCP_STREAM',
      'osv',
      'native',
    );
    expect(c[0]!.difference).toBeCloseTo(10, 10);
    expect(c[0]!.welch.p!).toBeLessThan(0.01);
    const few = comparePoints(
      [point('osv', 100, [110]), point('native', 100, [100, 101])],
      'TCP_STREAM',
      'osv',
      'native',
    );
    expect(few[0]!.welch.p).toBeNull();
    expect(few[0]!.welch.note).toMatch(/too few replicates/);
  });
  it('over a range: paired over points, interval and too-few notes', () => {
    const pts = [1000, 2000, 3000, 4000].flatMap((x, i) => [
      point('a', x, [100 + i, 101 + i]),
      point('b', x, [95 + i, 96 + i + (i % 2) * 0.5]),
    ]);
    const r = compareRange(pts, 'TCP_STREAM', 'a', 'b', 0, 6000);
    expect(r.points).toBe(4);
    expect(r.meanDifference).toBeCloseTo(5 - 0.125, 10);
    expect(r.low!).toBeGreaterThan(4);
    expect(r.high!).toBeLessThan(6);
    expect(r.p!).toBeLessThan(0.001);
    expect(compareRange(pts, 'TCP_STREAM', 'a', 'b', 0, 1500).note).toMatch(/too few shared points/);
    const single = [1, 2, 3].flatMap((x) => [point('a', x, [1]), point('b', x, [0])]);
    expect(compareRange(single, 'TCP_STREAM', 'a', 'b', 0, 9).note).toMatch(/too few replicates/);
  });
});

describe('UDP delivery and socket sizes', () => {
  it('okay rate is received / sent, loss the rest', () => {
    const d = udpDelivery([
      point('osv', 50, [10, 10], { test: 'UDP_STREAM', parameter: 'messageSize', sendCalls: 1000, recvCalls: 900 }),
    ])[0]!;
    expect(d.okRate).toBeCloseTo(0.9, 10);
    expect(d.lost).toBe(100);
    expect(d.lossRate).toBeCloseTo(0.1, 10);
    expect([d.low, d.high]).toEqual([null, null]);
  });
  it("gives the okay rate a t interval from the replicates' own rates, around the pooled rate", () => {
    const d = udpDelivery([
      point('osv', 50, [10, 10, 10], {
        test: 'UDP_STREAM',
        parameter: 'messageSize',
        sendCalls: 3000,
        recvCalls: 2700,
        okRates: [0.85, 0.9, 0.95],
      }),
    ])[0]!;
    const half = summarize([0.85, 0.9, 0.95]).ciHalfWidth!;
    expect(half).toBeCloseTo((4.303 * 0.05) / Math.sqrt(3), 3);
    expect(d.low).toBeCloseTo(0.9 - half, 10);
    expect(d.high).toBeCloseTo(0.9 + half, 10);
    expect(d.replicateRates).toEqual([0.85, 0.9, 0.95]);
  });
  it('shows what the kernel gave per requested size', () => {
    const rows = socketSizes([point('native', 100, [1]), point('native', 4100, [1])]);
    expect(rows.map((r) => r.effective)).toEqual([4608, 8200]);
    expect(rows[1]!.factor).toBe(2);
  });
});

describe('udpAnomalies', () => {
  it('flags UDP records that received datagrams their sender did not send', () => {
    const rec = (replicate: number, sendCalls: number, recvCalls: number, bytesReceived: number) => ({
      formatVersion: 1,
      environment: 'native',
      pointId: 'UDP_STREAM:messageSize=150',
      test: 'UDP_STREAM' as const,
      series: 's',
      parameter: 'messageSize' as const,
      value: 150,
      replicate,
      status: 'ok' as const,
      attempts: 1,
      startedAt: '',
      finishedAt: '',
      command: ['netperf', '--', '-m', '150'],
      stdout: '',
      stderr: '',
      error: null,
      metrics: { messageSize: 150, sendCalls, recvCalls, bytesReceived } as never,
    });
    // Measured on the testbed: 1 s UDP tests back to back on one data port.
    const found = udpAnomalies([rec(1, 49959, 134341, 10169350), rec(2, 53672, 53425, 8013750)]);
    expect(found).toHaveLength(1);
    expect(found[0]!.replicate).toBe(1);
    expect(found[0]!.reason).toMatch(
      /received 134341 messages of 49959 sent; received 10169350 B in 134341 messages, not 150 B each \(-m 150\)/,
    );
  });
});
