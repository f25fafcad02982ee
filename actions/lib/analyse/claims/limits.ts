// Where a condition of the run makes the paper's effect impossible to see, said on each claim it
// concerns: a verdict on a testbed that cannot show a regime is a verdict about that testbed, and
// the reader must see why. Pure: the run's manifest and point summaries in, sentences out.

import type { PointSummary } from '../aggregate.ts';
import { median } from '../../core/stats.ts';
import type { Manifest } from '../../measure/records.ts';
import { claimEnvironments, type Claim } from './schema.ts';

type RunFacts = { manifest?: Partial<Pick<Manifest, 'environmentDescriptions' | 'link'>> | null };

/** Round trips closer than this (either absolute or as a share) cannot carry a per-packet cost. */
const SAME_ROUND_TRIP_US = 5;
const SAME_ROUND_TRIP_SHARE = 0.01;
/** Native TCP at the smallest socket size within this share of its plateau: no window-limited regime. */
export const LINE_RATE_SHARE = 0.95;
/** One step between neighbouring sizes carrying this share of the rise is a step, not a gradual change. */
const ONE_STEP_SHARE = 0.6;

const mbit = (v: number) => v.toFixed(1);

/** Native TCP: whether the window-limited regime is there, and its shape, in words; null when it is gradual. */
export function tcpRegime(points: readonly PointSummary[]): { lineRate: boolean; text: string } | null {
  const native = points.filter((p) => p.environment === 'native' && p.test === 'TCP_STREAM' && p.throughput.n > 0).sort((a, b) => a.value - b.value);
  if (native.length < 4) return null;
  const first = native[0]!;
  const plateau = median(native.slice(Math.floor((2 * native.length) / 3)).map((p) => p.throughput.mean));
  const share = first.throughput.mean / plateau;
  if (share >= LINE_RATE_SHARE) {
    return { lineRate: true, text: `native TCP is at ${(share * 100).toFixed(0)}% of its ${mbit(plateau)} x 10^6 bits/s plateau from -s ${first.value} (${mbit(first.throughput.mean)}): this link shows no window-limited regime, where the paper's TCP differences live, so the claim only asks whether the environments differ at line rate` };
  }
  let step = { from: first, to: first, rise: 0 };
  for (let i = 1; i < native.length; i++) {
    const rise = native[i]!.throughput.mean - native[i - 1]!.throughput.mean;
    if (rise > step.rise) step = { from: native[i - 1]!, to: native[i]!, rise };
  }
  const total = plateau - first.throughput.mean;
  if (total <= 0 || step.rise / total < ONE_STEP_SHARE) return null;
  return {
    lineRate: false,
    text: `the window-limited regime appears as one step (native ${mbit(step.from.throughput.mean)} to ${mbit(step.to.throughput.mean)} x 10^6 bits/s between ${step.from.value} and ${step.to.value} B, ${((step.rise / total) * 100).toFixed(0)}% of its whole rise: whole segments in flight), not the paper's gradual change over 2000-6000 B, so differences that need the gradual change cannot show`,
  };
}

function roundTripOf(input: RunFacts, env: string): number | null {
  const us = input.manifest?.environmentDescriptions?.[env]?.roundTrip?.tcpMicroseconds;
  return typeof us === 'number' ? us : null;
}

/** The ways this run cannot show the paper's effect for this claim (empty when none is known). */
export function claimLimits(input: RunFacts, claim: Claim, points: readonly PointSummary[]): string[] {
  const limits: string[] = [];
  const envs = claimEnvironments(claim);
  const embedded = input.manifest?.link?.kind === 'veth-testbed';
  if (claim.test === 'TCP_STREAM' && claim.kind !== 'replicates-agree') {
    const regime = tcpRegime(points);
    if (regime) limits.push(`On this link ${regime.text}.`);
    const native = roundTripOf(input, 'native');
    const docker = roundTripOf(input, 'docker');
    if (embedded && envs.includes('native') && envs.includes('docker') && native !== null && docker !== null) {
      const gap = Math.abs(docker - native);
      if (gap <= Math.max(SAME_ROUND_TRIP_US, SAME_ROUND_TRIP_SHARE * native)) {
        limits.push(`Native and Docker round trips differ by ${gap.toFixed(0)} us (${native.toFixed(0)} vs ${docker.toFixed(0)} us): a cost of Docker's bridge and NAT on the round trip, the way it would lower TCP throughput where the window limits it, cannot show here.`);
      }
    }
  }
  if (claim.test === 'UDP_STREAM' && embedded && claim.kind === 'step' && claim.steps.some((s) => s.from < 1500 && s.to >= 1500)) {
    limits.push('The embedded link loses no packet (no loss emulated; it runs at its framing capacity at 1450 B): the paper\'s collapse at 1500 B, where a datagram becomes two fragments and a lost fragment loses it on a real NIC, cannot appear here.');
  }
  return limits;
}
