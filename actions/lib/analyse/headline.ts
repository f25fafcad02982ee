// A run's headline metrics per environment: the few numbers the history pages follow from run to
// run. Pure: point summaries (aggregate.ts) and round-trip times in, numbers out.
//
// Every metric but the round-trip time is a plain mean of per-point values over a range of the
// swept sizes, with the interval of analysis.ts's range averages: half-width sqrt(sum h_i^2) / k
// over the k points (independent points), and no interval (null) as soon as one point has none
// (a single replicate).
// - tcp-mean: TCP_STREAM throughput over requested send socket sizes 0-6000 B (the paper's range).
// - tcp-plateau: TCP_STREAM throughput at the largest requested sizes, where the curve has flattened:
//   the points whose size is at least PLATEAU_FRACTION of the largest size the environment measured
//   (with the paper plan's sweeps to 18000-20000 B, the points from 15000 B up).
// - udp-small / udp-large: UDP_STREAM throughput at sizes <= 1400 B (one datagram in one frame) and
//   >= 1500 B (datagrams fragmented beyond one 1500 B frame).
// - udp-ok: the UDP okay rate (datagrams received / sent, aggregate.ts), mean over every UDP point,
//   each point's interval from its replicates' own rates.
// - rtt: the TCP round-trip time the testbed recorded for the environment (median over its TCP_RR
//   probes), in microseconds; no interval.
// - relative: throughput relative to native, the paper's Fig. 5 number: the mean relative TCP
//   throughput over 0-6000 B (analysis.ts restrictedAverage), where native was measured.
// - tcp-cpu / udp-cpu: the server side's CPU-seconds per gigabyte delivered (aggregate.ts
//   cpuPerGigabyte, from each record's CPU cost), mean over every TCP_STREAM / UDP_STREAM point that
//   recorded one; lower is better. Absent for runs recorded before it was sampled.

import { summarize } from '../core/stats.ts';
import type { PointSummary } from './aggregate.ts';
import { relativeThroughput, restrictedAverage } from './analysis.ts';
import type { TestName } from '../plan/plan.ts';

export const HEADLINE_METRICS = [
  'tcp-mean',
  'tcp-plateau',
  'udp-small',
  'udp-large',
  'udp-ok',
  'rtt',
  'relative',
  'tcp-cpu',
  'udp-cpu',
] as const;
export type HeadlineMetric = (typeof HEADLINE_METRICS)[number];

export interface MetricInfo {
  title: string;
  unit: string;
  /** Which measured points the metric is made of (null: not made of throughput points, e.g. the RTT). */
  test: TestName | null;
  /** The sizes it covers, inclusive; the plateau's range depends on the run (see above). */
  from: number;
  to: number;
  /** Made of the points' server CPU cost per gigabyte (lower is better), not of their throughput. */
  cpu?: boolean;
}

export const PLATEAU_FRACTION = 0.75;
export const TCP_RANGE: readonly [number, number] = [0, 6000];
export const UDP_SMALL_MAX = 1400;
export const UDP_LARGE_MIN = 1500;

export const METRIC_INFO: Readonly<Record<HeadlineMetric, MetricInfo>> = {
  'tcp-mean': {
    title: 'TCP throughput, mean over 0-6000 B',
    unit: '10^6 bits/s',
    test: 'TCP_STREAM',
    from: TCP_RANGE[0],
    to: TCP_RANGE[1],
  },
  'tcp-plateau': {
    title: `TCP throughput at the largest sizes (plateau, >= ${PLATEAU_FRACTION * 100}% of the largest)`,
    unit: '10^6 bits/s',
    test: 'TCP_STREAM',
    from: 0,
    to: Number.POSITIVE_INFINITY,
  },
  'udp-small': {
    title: `UDP throughput at <= ${UDP_SMALL_MAX} B`,
    unit: '10^6 bits/s',
    test: 'UDP_STREAM',
    from: 0,
    to: UDP_SMALL_MAX,
  },
  'udp-large': {
    title: `UDP throughput at >= ${UDP_LARGE_MIN} B`,
    unit: '10^6 bits/s',
    test: 'UDP_STREAM',
    from: UDP_LARGE_MIN,
    to: Number.POSITIVE_INFINITY,
  },
  'udp-ok': {
    title: 'UDP okay rate (received / sent)',
    unit: 'fraction',
    test: 'UDP_STREAM',
    from: 0,
    to: Number.POSITIVE_INFINITY,
  },
  rtt: { title: 'TCP round-trip time', unit: 'microseconds', test: null, from: 0, to: 0 },
  relative: {
    title: 'TCP throughput relative to native, 0-6000 B (Fig. 5)',
    unit: 'ratio',
    test: 'TCP_STREAM',
    from: TCP_RANGE[0],
    to: TCP_RANGE[1],
  },
  'tcp-cpu': {
    title: 'TCP server CPU per gigabyte delivered',
    unit: 'CPU-seconds per 10^9 bytes',
    test: 'TCP_STREAM',
    from: 0,
    to: Number.POSITIVE_INFINITY,
    cpu: true,
  },
  'udp-cpu': {
    title: 'UDP server CPU per gigabyte delivered',
    unit: 'CPU-seconds per 10^9 bytes',
    test: 'UDP_STREAM',
    from: 0,
    to: Number.POSITIVE_INFINITY,
    cpu: true,
  },
};

export interface HeadlineValue {
  value: number;
  /** The 95% interval; null when replicates do not allow one. */
  low: number | null;
  high: number | null;
  /** Points the value is made of (0 for the round-trip time). */
  points: number;
}

/** One environment's metrics; a metric the run cannot give (no such points, no native) is absent. */
export interface EnvironmentHeadline {
  environment: string;
  metrics: Partial<Record<HeadlineMetric, HeadlineValue>>;
}

/** Per environment, sorted by name (an array, not an object keyed by outside names). */
export type Headline = EnvironmentHeadline[];

function rangeMean(values: readonly { value: number; half: number | null }[]): HeadlineValue | null {
  const k = values.length;
  if (k === 0) return null;
  const value = values.reduce((s, v) => s + v.value, 0) / k;
  const known = values.every((v) => v.half !== null);
  const half = known ? Math.sqrt(values.reduce((s, v) => s + v.half! ** 2, 0)) / k : null;
  return { value, low: half === null ? null : value - half, high: half === null ? null : value + half, points: k };
}

function throughputOver(
  points: readonly PointSummary[],
  test: TestName,
  from: number,
  to: number,
): HeadlineValue | null {
  return rangeMean(
    points
      .filter((p) => p.test === test && p.value >= from && p.value <= to)
      .map((p) => ({ value: p.throughput.mean, half: p.throughput.ciHalfWidth })),
  );
}

function cpuOver(points: readonly PointSummary[], test: TestName): HeadlineValue | null {
  return rangeMean(
    points
      .filter((p) => p.test === test && p.cpuPerGigabyte !== undefined)
      .map((p) => ({ value: p.cpuPerGigabyte!.summary.mean, half: p.cpuPerGigabyte!.summary.ciHalfWidth })),
  );
}

/** The sizes from which a TCP curve counts as its plateau: PLATEAU_FRACTION of the largest size measured. */
export function plateauFrom(points: readonly Pick<PointSummary, 'test' | 'value'>[]): number | null {
  const sizes = points.filter((p) => p.test === 'TCP_STREAM').map((p) => p.value);
  return sizes.length === 0 ? null : PLATEAU_FRACTION * Math.max(...sizes);
}

/**
 * The headline metrics of one run, per environment. `roundTripMicroseconds`: each environment's TCP
 * round-trip time as the run recorded it (RunAnalysis.roundTrips), null or absent when not recorded.
 */
export function headlineMetrics(
  points: readonly PointSummary[],
  roundTripMicroseconds: Readonly<Record<string, number | null>> = {},
): Headline {
  const measured = points.filter((p) => p.throughput.n > 0);
  const environments = [
    ...new Set([...measured.map((p) => p.environment), ...Object.keys(roundTripMicroseconds)]),
  ].sort();
  const relative = new Map(
    restrictedAverage(relativeThroughput(measured), 'TCP_STREAM', ...TCP_RANGE).map((r) => [r.environment, r]),
  );
  const out: Headline = [];
  for (const env of environments) {
    const mine = measured.filter((p) => p.environment === env);
    const metrics: Partial<Record<HeadlineMetric, HeadlineValue>> = {};
    const set = (metric: HeadlineMetric, v: HeadlineValue | null) => {
      if (v !== null && Number.isFinite(v.value)) metrics[metric] = v;
    };
    set('tcp-mean', throughputOver(mine, 'TCP_STREAM', ...TCP_RANGE));
    const plateau = plateauFrom(mine);
    set('tcp-plateau', plateau === null ? null : throughputOver(mine, 'TCP_STREAM', plateau, Number.POSITIVE_INFINITY));
    set('udp-small', throughputOver(mine, 'UDP_STREAM', 0, UDP_SMALL_MAX));
    set('udp-large', throughputOver(mine, 'UDP_STREAM', UDP_LARGE_MIN, Number.POSITIVE_INFINITY));
    set(
      'udp-ok',
      rangeMean(
        mine
          .filter((p) => p.test === 'UDP_STREAM' && p.okRate !== null)
          .map((p) => ({ value: p.okRate!, half: summarize(p.okRates).ciHalfWidth })),
      ),
    );
    const rtt = Object.hasOwn(roundTripMicroseconds, env) ? roundTripMicroseconds[env] : null;
    if (typeof rtt === 'number' && Number.isFinite(rtt)) metrics.rtt = { value: rtt, low: null, high: null, points: 0 };
    const r = relative.get(env);
    if (r)
      set('relative', {
        value: r.average,
        low: r.halfWidth === null ? null : r.average - r.halfWidth,
        high: r.halfWidth === null ? null : r.average + r.halfWidth,
        points: r.points,
      });
    set('tcp-cpu', cpuOver(mine, 'TCP_STREAM'));
    set('udp-cpu', cpuOver(mine, 'UDP_STREAM'));
    out.push({ environment: env, metrics });
  }
  return out;
}
