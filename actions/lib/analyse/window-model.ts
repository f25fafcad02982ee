// The window/RTT model of TCP throughput: a sender whose window is its send socket buffer can have
// at most one window in flight per round trip, so throughput = min(capacity, window / RTT). With
// each environment's measured round-trip time it predicts where its curve leaves the plateau. Pure.

import type { PointSummary } from './aggregate.ts';

export interface WindowModelRow {
  environment: string;
  series: string;
  /** The requested send socket size (the charts' x). */
  x: number;
  /** The effective send socket size the model uses as the window, in bytes. */
  window: number;
  roundTripMicroseconds: number;
  /** Predicted throughput, 10^6 bits/s. */
  throughputMbps: number;
}

/** window / RTT in 10^6 bits/s, capped at the link's capacity (null: no known cap). */
export function windowLimitedThroughputMbit(
  windowBytes: number,
  roundTripMicroseconds: number,
  capacityMbit: number | null,
): number {
  if (!(roundTripMicroseconds > 0))
    throw new Error(`window model: round-trip time must be > 0 us, got ${roundTripMicroseconds}`);
  // Bytes x 8 / microseconds = 10^6 bits/s.
  const limited = (windowBytes * 8) / roundTripMicroseconds;
  return capacityMbit === null ? limited : Math.min(capacityMbit, limited);
}

/**
 * The model at every TCP_STREAM point of each environment that has a TCP round-trip time, with
 * the point's effective send socket size (LSS_SIZE_END, median over replicates) as the window.
 */
export function windowModel(
  points: readonly PointSummary[],
  roundTripMicroseconds: Readonly<Record<string, number | null>>,
  capacityMbit: number | null,
): WindowModelRow[] {
  const rows: WindowModelRow[] = [];
  for (const p of points) {
    if (p.test !== 'TCP_STREAM' || p.parameter !== 'sendSocketSize' || p.effectiveSendSocket === null) continue;
    const rtt = Object.hasOwn(roundTripMicroseconds, p.environment) ? roundTripMicroseconds[p.environment] : null;
    if (rtt === null || rtt === undefined || !(rtt > 0)) continue;
    rows.push({
      environment: p.environment,
      series: p.series,
      x: p.value,
      window: p.effectiveSendSocket,
      roundTripMicroseconds: rtt,
      throughputMbps: windowLimitedThroughputMbit(p.effectiveSendSocket, rtt, capacityMbit),
    });
  }
  return rows.sort(
    (a, b) => a.environment.localeCompare(b.environment) || a.series.localeCompare(b.series) || a.x - b.x,
  );
}
