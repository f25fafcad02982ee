// Each environment's round-trip time from its probes (records.ts, rttProbeRecordSchema): the median
// over its starts of each probe's mean latency, as the manifest holds it. Pure.

import { median } from '../core/stats.ts';
import type { EnvironmentDescription, RttProbeRecord } from './records.ts';

export type RoundTrip = NonNullable<EnvironmentDescription['roundTrip']>;

/** The ok probes' mean latencies of one environment and test, in file order. */
export function probeLatencies(
  probes: readonly RttProbeRecord[],
  environment: string,
  test: RttProbeRecord['test'],
): number[] {
  return probes
    .filter((p) => p.environment === environment && p.test === test && p.status === 'ok' && p.metrics !== null)
    .map((p) => p.metrics!.meanLatencyMicroseconds);
}

/** An environment's round-trip time over all its probes so far; null when it has none at all. */
export function roundTripOf(probes: readonly RttProbeRecord[], environment: string): RoundTrip | null {
  if (!probes.some((p) => p.environment === environment)) return null;
  const tcp = probeLatencies(probes, environment, 'TCP_RR');
  const udp = probeLatencies(probes, environment, 'UDP_RR');
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    tcpMicroseconds: tcp.length > 0 ? round(median(tcp)) : null,
    udpMicroseconds: udp.length > 0 ? round(median(udp)) : null,
    tcpProbes: tcp.length,
    udpProbes: udp.length,
  };
}
