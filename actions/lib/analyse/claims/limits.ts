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

/** Native TCP across socket sizes: where it starts against its plateau, and its largest step. */
export interface TcpRegime {
  /** The smallest socket size measured. */
  first: PointSummary;
  /** The median of the largest third of the sizes. */
  plateau: number;
  /** first / plateau: at LINE_RATE_SHARE or more the link shows no window-limited regime. */
  share: number;
  lineRate: boolean;
  /** The window-limited rise when one step between neighbouring sizes carries most of it; else null. */
  oneStep: { from: PointSummary; to: PointSummary; share: number } | null;
}

export function nativeTcpRegime(points: readonly PointSummary[]): TcpRegime | null {
  const native = points
    .filter((p) => p.environment === 'native' && p.test === 'TCP_STREAM' && p.throughput.n > 0)
    .sort((a, b) => a.value - b.value);
  if (native.length < 4) return null;
  const first = native[0]!;
  const plateau = median(native.slice(Math.floor((2 * native.length) / 3)).map((p) => p.throughput.mean));
  const share = first.throughput.mean / plateau;
  let step = { from: first, to: first, rise: 0 };
  for (let i = 1; i < native.length; i++) {
    const rise = native[i]!.throughput.mean - native[i - 1]!.throughput.mean;
    if (rise > step.rise) step = { from: native[i - 1]!, to: native[i]!, rise };
  }
  const total = plateau - first.throughput.mean;
  const lineRate = share >= LINE_RATE_SHARE;
  const oneStep =
    !lineRate && total > 0 && step.rise / total >= ONE_STEP_SHARE
      ? { from: step.from, to: step.to, share: step.rise / total }
      : null;
  return { first, plateau, share, lineRate, oneStep };
}

/** "native TCP at -s 100: 69.2 of its 94.1 x 10^6 bits/s plateau (74%)". */
export function regimeFigures(r: TcpRegime): string {
  return `native TCP at -s ${r.first.value}: ${mbit(r.first.throughput.mean)} of its ${mbit(r.plateau)} x 10^6 bits/s plateau (${(r.share * 100).toFixed(0)}%)`;
}

/** Why the regime cannot show the paper's TCP differences, in words; null when it can. */
export function regimeLimit(r: TcpRegime): string | null {
  if (r.lineRate)
    return `${regimeFigures(r)}: this link shows no window-limited regime, where the paper's TCP differences live, so the claim only asks whether the environments differ at line rate`;
  if (!r.oneStep) return null;
  const { from, to, share } = r.oneStep;
  return `the window-limited regime appears as one step (native ${mbit(from.throughput.mean)} to ${mbit(to.throughput.mean)} x 10^6 bits/s between ${from.value} and ${to.value} B, ${(share * 100).toFixed(0)}% of its whole rise: whole segments in flight), not the paper's gradual change over 2000-6000 B, so differences that need the gradual change cannot show`;
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
    const regime = nativeTcpRegime(points);
    const limit = regime && regimeLimit(regime);
    if (limit) limits.push(`On this link ${limit}.`);
    const native = roundTripOf(input, 'native');
    const docker = roundTripOf(input, 'docker');
    if (embedded && envs.includes('native') && envs.includes('docker') && native !== null && docker !== null) {
      const gap = Math.abs(docker - native);
      if (gap <= Math.max(SAME_ROUND_TRIP_US, SAME_ROUND_TRIP_SHARE * native)) {
        limits.push(
          `Native and Docker round trips differ by ${gap.toFixed(0)} us (${native.toFixed(0)} vs ${docker.toFixed(0)} us): a cost of Docker's bridge and NAT on the round trip, the way it would lower TCP throughput where the window limits it, cannot show here.`,
        );
      }
    }
  }
  if (
    claim.test === 'UDP_STREAM' &&
    embedded &&
    claim.kind === 'step' &&
    claim.steps.some((s) => s.from < 1500 && s.to >= 1500)
  ) {
    limits.push(
      "The embedded link loses no packet on the wire (no loss emulated: a packet is lost only when a queue overflows): the paper's collapse at 1500 B, where a datagram becomes two fragments and a lost fragment loses it on a real NIC, cannot appear here.",
    );
  }
  return limits;
}
