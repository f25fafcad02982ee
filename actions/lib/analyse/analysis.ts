// The paper's analysis over point summaries: relative throughput against native, the restricted-range
// average (Fig. 5/7), the signed area between curves (Discussion), UDP okay rate and loss, requested vs
// effective socket sizes, and comparisons between environments. Pure: summaries in, numbers out.
//
// Methods, stated once:
// - A point's interval is the two-sided Student-t interval of the mean over replicates (stats.ts).
// - Relative throughput r = mean_env / mean_native at the same point (same test and swept value).
//   Its uncertainty is first-order error propagation (the delta method) of the two independent
//   means: relative half-width = sqrt((h_env/m_env)^2 + (h_nat/m_nat)^2), where h are the t-interval
//   half-widths; r +- r * that. With a single replicate on either side the interval is unknown (null).
// - A range average is the plain mean of the per-point values in [from, to] over every series of the
//   test; its half-width is sqrt(sum h_i^2) / k (independent points).
// - The signed area is the trapezoid rule over the points both curves share, sorted by the swept
//   value, of (mean_env - mean_native): positive where the environment is above native. Its unit is
//   10^6 bits/s x bytes; divided by the covered width it is the mean vertical gap in 10^6 bits/s.
// - Per point, two environments are compared with Welch's t-test over replicates. Over a range they
//   are compared by a paired t-test over the shared points (the per-point differences of means, k-1
//   degrees of freedom): each point is one paired observation, so the curve's shape does not count
//   as noise.

import type { PointSummary } from './aggregate.ts';
import type { Parameter, TestName } from '../plan/plan.ts';
import type { MeasurementRecord } from '../measure/records.ts';
import { mean, stdev, summarize, studentTCdf, studentTQuantile, welchTTest, type WelchResult } from '../core/stats.ts';

export const BASELINE = 'native';

export interface ValueWithInterval {
  value: number;
  /** Half-width of the interval at `level`; null when it cannot be estimated (too few replicates). */
  halfWidth: number | null;
}

export interface RelativePoint {
  environment: string;
  test: TestName;
  series: string;
  x: number;
  relative: number;
  halfWidth: number | null;
  low: number | null;
  high: number | null;
}

function key(p: Pick<PointSummary, 'test' | 'value'>): string {
  return `${p.test}|${p.value}`;
}

function byKey(points: readonly PointSummary[], environment: string): Map<string, PointSummary> {
  const map = new Map<string, PointSummary>();
  for (const p of points) if (p.environment === environment && p.throughput.n > 0) map.set(key(p), p);
  return map;
}

export function environmentsOf(points: readonly PointSummary[]): string[] {
  return [...new Set(points.filter((p) => p.throughput.n > 0).map((p) => p.environment))];
}

/** Relative throughput of every environment (native included, at 1) against native, per point. */
export function relativeThroughput(points: readonly PointSummary[], baseline = BASELINE): RelativePoint[] {
  const base = byKey(points, baseline);
  const out: RelativePoint[] = [];
  for (const p of points) {
    if (p.throughput.n === 0) continue;
    const b = base.get(key(p));
    if (!b || !(b.throughput.mean > 0)) continue;
    const r = p.throughput.mean / b.throughput.mean;
    let half: number | null = null;
    if (p.environment === baseline)
      half = b.throughput.ciHalfWidth === null ? null : b.throughput.ciHalfWidth / b.throughput.mean;
    else if (p.throughput.ciHalfWidth !== null && b.throughput.ciHalfWidth !== null && p.throughput.mean > 0) {
      half = r * Math.hypot(p.throughput.ciHalfWidth / p.throughput.mean, b.throughput.ciHalfWidth / b.throughput.mean);
    }
    out.push({
      environment: p.environment,
      test: p.test,
      series: p.series,
      x: p.value,
      relative: r,
      halfWidth: half,
      low: half === null ? null : r - half,
      high: half === null ? null : r + half,
    });
  }
  return out;
}

export interface RangeAverage {
  environment: string;
  test: TestName;
  from: number;
  to: number;
  points: number;
  average: number;
  halfWidth: number | null;
}

/** Mean relative throughput over [from, to] (the paper's Fig. 5/7 uses TCP, 0-6000 B). */
export function restrictedAverage(
  relative: readonly RelativePoint[],
  test: TestName,
  from: number,
  to: number,
): RangeAverage[] {
  const groups = new Map<string, RelativePoint[]>();
  for (const r of relative) {
    if (r.test !== test || r.x < from || r.x > to) continue;
    const g = groups.get(r.environment) ?? [];
    g.push(r);
    groups.set(r.environment, g);
  }
  return [...groups.entries()].map(([environment, rs]) => {
    const known = rs.every((r) => r.halfWidth !== null);
    const half = known ? Math.sqrt(rs.reduce((s, r) => s + r.halfWidth! ** 2, 0)) / rs.length : null;
    return {
      environment,
      test,
      from,
      to,
      points: rs.length,
      average: mean(rs.map((r) => r.relative)),
      halfWidth: half,
    };
  });
}

export interface SignedArea {
  environment: string;
  test: TestName;
  from: number;
  to: number;
  /** Common points used. */
  points: number;
  /** Trapezoid area of (env - native), 10^6 bits/s x bytes. */
  area: number;
  /** area / covered width: the mean gap, 10^6 bits/s (0 with fewer than two points). */
  meanGap: number;
}

/** Signed area between each environment's curve and the baseline's over [from, to] (Discussion). */
export function signedAreas(
  points: readonly PointSummary[],
  test: TestName,
  from: number,
  to: number,
  baseline = BASELINE,
): SignedArea[] {
  const base = byKey(points, baseline);
  const out: SignedArea[] = [];
  for (const env of environmentsOf(points)) {
    if (env === baseline) continue;
    const gaps = points
      .filter(
        (p) =>
          p.environment === env &&
          p.test === test &&
          p.value >= from &&
          p.value <= to &&
          p.throughput.n > 0 &&
          base.has(key(p)),
      )
      .map((p) => ({ x: p.value, gap: p.throughput.mean - base.get(key(p))!.throughput.mean }))
      .sort((a, b) => a.x - b.x);
    if (gaps.length === 0) continue;
    let area = 0;
    for (let i = 1; i < gaps.length; i++)
      area += ((gaps[i]!.gap + gaps[i - 1]!.gap) / 2) * (gaps[i]!.x - gaps[i - 1]!.x);
    const width = gaps[gaps.length - 1]!.x - gaps[0]!.x;
    out.push({ environment: env, test, from, to, points: gaps.length, area, meanGap: width > 0 ? area / width : 0 });
  }
  return out;
}

export interface UdpDelivery {
  environment: string;
  x: number;
  sent: number;
  received: number;
  okRate: number;
  /** Datagrams sent that never arrived (sent - received, never below 0). */
  lost: number;
  lossRate: number;
  /** The 95% t interval of the okay rate from the replicates' own rates, set around the pooled rate; null below 2 replicates. */
  low: number | null;
  high: number | null;
  /** Each replicate's okay rate. */
  replicateRates: number[];
}

/** UDP okay rate per point: messages received / messages sent, from the receive and send call counts. */
export function udpDelivery(points: readonly PointSummary[]): UdpDelivery[] {
  return points
    .filter((p) => p.test === 'UDP_STREAM' && p.sendCalls > 0)
    .map((p) => {
      const okRate = p.recvCalls / p.sendCalls;
      const lost = Math.max(0, p.sendCalls - p.recvCalls);
      const half = summarize(p.okRates).ciHalfWidth;
      return {
        environment: p.environment,
        x: p.value,
        sent: p.sendCalls,
        received: p.recvCalls,
        okRate,
        lost,
        lossRate: lost / p.sendCalls,
        low: half === null ? null : okRate - half,
        high: half === null ? null : okRate + half,
        replicateRates: p.okRates,
      };
    });
}

export interface SocketSizeRow {
  environment: string;
  series: string;
  requested: number;
  effective: number;
  /** effective / requested: Linux doubles the request (for bookkeeping) and clamps it to its limits. */
  factor: number;
}

/** What the kernel gave for each requested send socket size (TCP sweeps over -s). */
export function socketSizes(points: readonly PointSummary[]): SocketSizeRow[] {
  return points
    .filter((p) => p.parameter === 'sendSocketSize' && p.effectiveSendSocket !== null)
    .map((p) => ({
      environment: p.environment,
      series: p.series,
      requested: p.value,
      effective: p.effectiveSendSocket!,
      factor: p.effectiveSendSocket! / p.value,
    }));
}

// ---------- comparisons ----------

export const MIN_REPLICATES_TO_DECIDE = 2;

export interface PointComparison {
  test: TestName;
  x: number;
  a: string;
  b: string;
  meanA: number;
  meanB: number;
  difference: number;
  welch: WelchResult;
}

/** Welch's test at every point two environments share. */
export function comparePoints(
  points: readonly PointSummary[],
  test: TestName,
  a: string,
  b: string,
  metric: Metric = 'throughput',
): PointComparison[] {
  const pb = byKey(points, b);
  const out: PointComparison[] = [];
  for (const p of points) {
    if (p.environment !== a || p.test !== test || p.throughput.n === 0) continue;
    const q = pb.get(key(p));
    if (!q) continue;
    const va = metricValue(p, metric);
    const vb = metricValue(q, metric);
    if (va === null || vb === null) continue;
    out.push({
      test,
      x: p.value,
      a,
      b,
      meanA: va,
      meanB: vb,
      difference: va - vb,
      welch:
        metric === 'throughput'
          ? welchTTest(p.samples, q.samples)
          : { t: Number.NaN, df: Number.NaN, p: null, note: 'okay rate is pooled over replicates: no per-point test' },
    });
  }
  return out.sort((x, y) => x.x - y.x);
}

export type Metric = 'throughput' | 'okRate';

function metricValue(p: PointSummary, metric: Metric): number | null {
  return metric === 'throughput' ? p.throughput.mean : p.okRate;
}

export interface RangeComparison {
  test: TestName;
  a: string;
  b: string;
  from: number;
  to: number;
  metric: Metric;
  points: number;
  /** Mean over the shared points of (a - b). */
  meanDifference: number;
  /** Two-sided t interval of the mean difference (paired over points); null below 2 points. */
  low: number | null;
  high: number | null;
  p: number | null;
  /** Smallest replicate count at any point of either side. */
  minReplicates: number;
  note: string | null;
}

/** Paired comparison of two environments over the points they share in [from, to]. */
export function compareRange(
  points: readonly PointSummary[],
  test: TestName,
  a: string,
  b: string,
  from: number,
  to: number,
  metric: Metric = 'throughput',
  level = 0.95,
): RangeComparison {
  const pb = byKey(points, b);
  const diffs: number[] = [];
  let minReplicates = Number.POSITIVE_INFINITY;
  for (const p of points) {
    if (p.environment !== a || p.test !== test || p.value < from || p.value > to || p.throughput.n === 0) continue;
    const q = pb.get(key(p));
    if (!q) continue;
    const va = metricValue(p, metric);
    const vb = metricValue(q, metric);
    if (va === null || vb === null) continue;
    diffs.push(va - vb);
    minReplicates = Math.min(minReplicates, p.throughput.n, q.throughput.n);
  }
  const k = diffs.length;
  const base = {
    test,
    a,
    b,
    from,
    to,
    metric,
    points: k,
    meanDifference: mean(diffs),
    minReplicates: k === 0 ? 0 : minReplicates,
  };
  if (k < 2)
    return {
      ...base,
      low: null,
      high: null,
      p: null,
      note: `too few shared points in ${from}-${to} (${k}; need at least 2)`,
    };
  const m = mean(diffs);
  const se = stdev(diffs) / Math.sqrt(k);
  const note =
    base.minReplicates < MIN_REPLICATES_TO_DECIDE
      ? `too few replicates (${base.minReplicates} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`
      : null;
  if (se === 0)
    return { ...base, low: m, high: m, p: m === 0 ? 1 : 0, note: note ?? 'identical differences at every point' };
  const half = studentTQuantile(1 - (1 - level) / 2, k - 1) * se;
  const t = m / se;
  const p = 2 * (1 - studentTCdf(Math.abs(t), k - 1));
  return { ...base, low: m - half, high: m + half, p: Math.min(1, Math.max(0, p)), note };
}

export interface UdpAnomaly {
  environment: string;
  /** The swept option of the point (its label: `-r 550`, `-m 1450`). */
  parameter: Parameter;
  x: number;
  replicate: number;
  /** The size of every datagram the point sends, and the netperf option that set it. */
  datagram: SentDatagram;
  /** Why the record cannot be taken at face value. */
  reason: string;
}

/** The datagram a UDP_STREAM measurement sends: `-r` when its command gives one, else `-m`. */
export interface SentDatagram {
  option: '-r' | '-m';
  bytes: number;
}

/** The last value of a test-specific option (after `--`) of a netperf command; "-r 500,500" gives 500. */
function testOption(command: readonly string[], option: string): number | null {
  const from = command.indexOf('--');
  let found: number | null = null;
  for (let i = Math.max(0, from) + 1; i < command.length - 1; i++) {
    if (command[i] !== option) continue;
    const value = Number((command[i + 1] ?? '').split(',')[0]);
    if (Number.isInteger(value) && value > 0) found = value;
  }
  return found;
}

/**
 * The size of each datagram a UDP_STREAM record's sender sent. netperf's UDP_STREAM sends `-r`
 * bytes per call whenever `-r` is given, whatever `-m` (and LOCAL_SEND_SIZE) says; without `-r`
 * it sends `-m`, or its default send size, which LOCAL_SEND_SIZE reports.
 */
export function sentDatagram(record: Pick<MeasurementRecord, 'command' | 'metrics'>): SentDatagram | null {
  const request = testOption(record.command, '-r');
  if (request !== null) return { option: '-r', bytes: request };
  const message = testOption(record.command, '-m') ?? record.metrics?.messageSize ?? null;
  return message !== null && message > 0 ? { option: '-m', bytes: message } : null;
}

/**
 * UDP records whose receiver counted datagrams the sender of this test did not send: more
 * messages received than sent, or received bytes that are not a whole number of the datagrams
 * this test sends (`-r` when the point sets it, `-m` otherwise). Seen when tests follow each other
 * on one data port and the previous test's datagrams, still queued on the link, arrive at the next
 * one: its throughput and okay rate are then inflated.
 */
export function udpAnomalies(records: readonly MeasurementRecord[]): UdpAnomaly[] {
  const out: UdpAnomaly[] = [];
  for (const r of records) {
    const m = r.metrics;
    if (r.test !== 'UDP_STREAM' || r.status !== 'ok' || !m) continue;
    const datagram = sentDatagram(r);
    if (datagram === null) continue;
    const reasons: string[] = [];
    if (m.recvCalls > m.sendCalls) reasons.push(`received ${m.recvCalls} messages of ${m.sendCalls} sent`);
    if (m.bytesReceived !== m.recvCalls * datagram.bytes)
      reasons.push(
        `received ${m.bytesReceived} B in ${m.recvCalls} messages, not ${datagram.bytes} B each (${datagram.option} ${datagram.bytes})`,
      );
    if (reasons.length > 0)
      out.push({
        environment: r.environment,
        parameter: r.parameter,
        x: r.value,
        replicate: r.replicate,
        datagram,
        reason: reasons.join('; '),
      });
  }
  return out.sort((a, b) => a.environment.localeCompare(b.environment) || a.x - b.x || a.replicate - b.replicate);
}
