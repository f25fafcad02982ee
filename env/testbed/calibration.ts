// The rule that picks the testbed's default delay (env/testbed/README.md): with it, native TCP is
// clearly window-limited at the smallest socket size and converges where the paper's curves do
// ("all curves converge to native's beyond about 5000-6000 B" requested). Pure.

export interface ThroughputPoint {
  /** Requested send socket size (netperf -s), bytes. */
  requested: number;
  mbps: number;
}

export const CALIBRATION_RULE = {
  /** Native TCP first reaches this share of its plateau ... */
  convergedShare: 0.99,
  /** ... at a requested -s in this range (inclusive). */
  convergesFrom: 5000,
  convergesTo: 7000,
  /** At the smallest socket size (-s 100) it reaches at most this share of the plateau. */
  smallestAtMost: 0.8,
} as const;

export interface CalibrationCheck {
  /** The smallest requested -s at or above 99% of the plateau, or null if none is. */
  first99: number | null;
  /** Throughput at the smallest requested -s, as a share of the plateau. */
  atSmallest: number;
  ok: boolean;
  problems: string[];
}

export function calibrationCheck(
  points: readonly ThroughputPoint[],
  plateauMbps: number,
  rule = CALIBRATION_RULE,
): CalibrationCheck {
  if (points.length === 0 || !(plateauMbps > 0))
    throw new Error('calibration check: needs points and a positive plateau');
  const sorted = [...points].sort((a, b) => a.requested - b.requested);
  const first = sorted.find((p) => p.mbps >= rule.convergedShare * plateauMbps);
  const first99 = first?.requested ?? null;
  const atSmallest = sorted[0]!.mbps / plateauMbps;
  const problems: string[] = [];
  if (first99 === null) problems.push(`never reaches ${100 * rule.convergedShare}% of the plateau`);
  else if (first99 < rule.convergesFrom)
    problems.push(`reaches ${100 * rule.convergedShare}% already at -s ${first99}: too little delay`);
  else if (first99 > rule.convergesTo)
    problems.push(`reaches ${100 * rule.convergedShare}% only at -s ${first99}: too much delay`);
  if (atSmallest > rule.smallestAtMost)
    problems.push(
      `-s ${sorted[0]!.requested} gives ${(100 * atSmallest).toFixed(1)}% of the plateau, above ${100 * rule.smallestAtMost}%`,
    );
  return { first99, atSmallest, ok: problems.length === 0, problems };
}
