// Records -> one summary per (environment, point): the unit every figure, table and test works on. Pure.

import type { Parameter, TestName } from '../plan/plan.ts';
import { latestRecords, type MeasurementRecord } from '../measure/records.ts';
import { summarize, type Summary } from '../core/stats.ts';

export interface PointSummary {
  environment: string;
  test: TestName;
  series: string;
  parameter: Parameter;
  value: number;
  pointId: string;
  /** Receiver throughput over ok replicates, 10^6 bits/s. */
  throughput: Summary;
  /** The raw per-replicate throughputs, for significance tests, in replicate order. */
  samples: number[];
  /** The replicate index of each sample: two environments measured in the same replicates (blocks) are compared pair by pair. */
  replicates: number[];
  failed: number;
  /** Ok replicates whose measurement was flagged as disturbed by the host (record.interference): left out of samples and every mean. */
  flagged: number;
  /** Send socket size the kernel gave (LSS_SIZE_END), per replicate median; null when not reported. */
  effectiveSendSocket: number | null;
  requestedSendSocket: number | null;
  /** UDP: datagrams received / datagrams sent, summed over replicates. */
  okRate: number | null;
  /** UDP: each ok replicate's own okay rate (received / sent), in replicate order, for an interval. */
  okRates: number[];
  sendCalls: number;
  recvCalls: number;
  /** netperf's own confidence result, when the plan asked for one: replicates that missed the width. */
  confidenceMissed: number;
  confidenceAsked: boolean;
  /**
   * The server side's CPU-seconds per gigabyte delivered (record.cpu.serverSecondsPerGigabyte) over
   * the clean replicates that recorded one; absent when none did (runs from before it was sampled,
   * runner pairs, environments without a CPU scope).
   */
  cpuPerGigabyte?: CpuPerGigabyte;
}

export interface CpuPerGigabyte {
  summary: Summary;
  /** Per replicate, in replicate order, for significance tests. */
  samples: number[];
  replicates: number[];
  /** The client's netperf, CPU-seconds per gigabyte: its mean over the same replicates, for comparison. */
  clientMean: number | null;
}

/** The CPU cost of a point's clean ok records (sorted by replicate), or undefined when none recorded it. */
export function cpuPerGigabyteOf(ok: readonly MeasurementRecord[], level = 0.95): CpuPerGigabyte | undefined {
  const costed = ok.filter((r) => r.cpu?.serverSecondsPerGigabyte != null);
  if (costed.length === 0) return undefined;
  const samples = costed.map((r) => r.cpu!.serverSecondsPerGigabyte!);
  const client = costed.map((r) => r.cpu!.clientSecondsPerGigabyte).filter((v): v is number => v !== null);
  return {
    summary: summarize(samples, level),
    samples,
    replicates: costed.map((r) => r.replicate),
    clientMean: client.length === 0 ? null : client.reduce((s, v) => s + v, 0) / client.length,
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The latest record of each replicate, grouped by environment and point (key `env|pointId`). */
export function recordsByPoint(records: readonly MeasurementRecord[]): Map<string, MeasurementRecord[]> {
  const groups = new Map<string, MeasurementRecord[]>();
  for (const r of latestRecords(records)) {
    const key = `${r.environment}|${r.pointId}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return groups;
}

export function summarizePoints(records: readonly MeasurementRecord[], level = 0.95): PointSummary[] {
  const groups = recordsByPoint(records);
  const out: PointSummary[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    // A measurement flagged as disturbed stays in results.jsonl with its reasons but never enters a
    // mean: the point is summarised over its clean replicates only.
    const valid = group.filter((r) => r.status === 'ok' && r.metrics !== null);
    const ok = valid.filter((r) => !r.interference?.flagged).sort((a, b) => a.replicate - b.replicate);
    const metrics = ok.map((r) => r.metrics!);
    const samples = metrics.map((m) => m.throughputMbps);
    const sendCalls = metrics.reduce((s, m) => s + m.sendCalls, 0);
    const recvCalls = metrics.reduce((s, m) => s + m.recvCalls, 0);
    const requested = metrics.map((m) => m.sendSocketRequested).filter((v) => v > 0);
    const cpuPerGigabyte = cpuPerGigabyteOf(ok, level);
    out.push({
      environment: first.environment,
      test: first.test,
      series: first.series,
      parameter: first.parameter,
      value: first.value,
      pointId: first.pointId,
      throughput: summarize(samples, level),
      samples,
      replicates: ok.map((r) => r.replicate),
      failed: group.length - valid.length,
      flagged: valid.length - ok.length,
      effectiveSendSocket: median(metrics.map((m) => m.sendSocketFinal).filter((v) => v > 0)),
      requestedSendSocket: median(requested),
      okRate: first.test === 'UDP_STREAM' && sendCalls > 0 ? recvCalls / sendCalls : null,
      okRates:
        first.test === 'UDP_STREAM' ? metrics.filter((m) => m.sendCalls > 0).map((m) => m.recvCalls / m.sendCalls) : [],
      sendCalls,
      recvCalls,
      confidenceAsked: metrics.some((m) => m.confidence !== null),
      confidenceMissed: metrics.filter(
        (m) => m.confidence !== null && m.confidence.achievedWidth > m.confidence.requestedWidth,
      ).length,
      ...(cpuPerGigabyte === undefined ? {} : { cpuPerGigabyte }),
    });
  }
  return out.sort(
    (a, b) => a.environment.localeCompare(b.environment) || a.test.localeCompare(b.test) || a.value - b.value,
  );
}
