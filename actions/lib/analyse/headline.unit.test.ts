import { describe, expect, it } from 'vitest';
import type { PointSummary } from './aggregate.ts';
import { headlineMetrics, plateauFrom } from './headline.ts';
import { summarize } from '../core/stats.ts';

function point(
  environment: string,
  test: 'TCP_STREAM' | 'UDP_STREAM',
  value: number,
  samples: number[],
  okRates: number[] = [],
): PointSummary {
  const udp = test === 'UDP_STREAM';
  return {
    environment,
    test,
    series: 's',
    parameter: udp ? 'requestSize' : 'sendSocketSize',
    value,
    pointId: `${test}:${value}`,
    throughput: summarize(samples),
    samples,
    replicates: samples.map((_, i) => i + 1),
    failed: 0,
    flagged: 0,
    effectiveSendSocket: null,
    requestedSendSocket: null,
    okRate: udp ? okRates.reduce((s, r) => s + r, 0) / okRates.length : null,
    okRates,
    sendCalls: udp ? 100 : 0,
    recvCalls: udp ? 90 : 0,
    confidenceMissed: 0,
    confidenceAsked: false,
  };
}

const tcp = (env: string, value: number, samples: number[]) => point(env, 'TCP_STREAM', value, samples);
const udp = (env: string, value: number, samples: number[], ok = [0.9, 0.9, 0.9]) =>
  point(env, 'UDP_STREAM', value, samples, ok);

describe('headlineMetrics', () => {
  const points = [
    tcp('native', 1000, [50, 50, 50]),
    tcp('native', 5000, [90, 91, 92]),
    tcp('native', 7000, [94, 94, 94]),
    tcp('native', 16000, [95, 96, 97]),
    tcp('native', 20000, [97, 97, 97]),
    tcp('docker', 1000, [40, 40, 40]),
    tcp('docker', 5000, [80, 81, 82]),
    udp('native', 500, [60, 61, 62], [0.98, 0.99, 1]),
    udp('native', 1400, [70, 70, 70]),
    udp('native', 1500, [10, 11, 12]),
    udp('native', 3000, [20, 20, 20]),
  ];
  const h = headlineMetrics(points, { native: 180, docker: null });
  const native = h.find((e) => e.environment === 'native')!.metrics;
  const docker = h.find((e) => e.environment === 'docker')!.metrics;

  it('TCP mean over 0-6000 B: the plain mean of the points in range, interval sqrt(sum h^2)/k', () => {
    expect(native['tcp-mean']!.value).toBeCloseTo((50 + 91) / 2, 10);
    expect(native['tcp-mean']!.points).toBe(2);
    const half = Math.sqrt(summarize([50, 50, 50]).ciHalfWidth! ** 2 + summarize([90, 91, 92]).ciHalfWidth! ** 2) / 2;
    expect(native['tcp-mean']!.high! - native['tcp-mean']!.value).toBeCloseTo(half, 10);
  });

  it('TCP plateau: the points from 75% of the largest size up', () => {
    expect(plateauFrom(points.filter((p) => p.environment === 'native'))).toBe(15000);
    expect(native['tcp-plateau']!.value).toBeCloseTo((96 + 97) / 2, 10);
    expect(native['tcp-plateau']!.points).toBe(2);
  });

  it('UDP throughput split at one frame, and the okay rate with its replicate interval', () => {
    expect(native['udp-small']!.value).toBeCloseTo((61 + 70) / 2, 10);
    expect(native['udp-large']!.value).toBeCloseTo((11 + 20) / 2, 10);
    expect(native['udp-ok']!.value).toBeCloseTo((0.99 + 0.9 * 3) / 4, 10);
    expect(native['udp-ok']!.low).not.toBeNull();
    expect(docker['udp-small']).toBeUndefined();
  });

  it('RTT as recorded (no interval), relative to native where native was measured', () => {
    expect(native.rtt).toEqual({ value: 180, low: null, high: null, points: 0 });
    expect(docker.rtt).toBeUndefined();
    expect(native.relative!.value).toBe(1);
    expect(docker.relative!.value).toBeCloseTo((40 / 50 + 81 / 91) / 2, 10);
    expect(docker.relative!.low).toBeLessThan(docker.relative!.value);
  });

  it('no interval from a single replicate; no relative without native; environments sorted', () => {
    const one = headlineMetrics([tcp('kvm', 1000, [40]), tcp('docker', 1000, [41, 42])]);
    expect(one.map((e) => e.environment)).toEqual(['docker', 'kvm']);
    expect(one[1]!.metrics['tcp-mean']).toEqual({ value: 40, low: null, high: null, points: 1 });
    expect(one[0]!.metrics.relative).toBeUndefined();
  });

  it('an environment named like an Object property is data, not a prototype', () => {
    const odd = headlineMetrics([tcp('__proto__', 1000, [1, 2])], { constructor: 5 });
    expect(odd.map((e) => e.environment)).toEqual(['__proto__', 'constructor']);
    expect(odd[1]!.metrics.rtt!.value).toBe(5);
  });
});
