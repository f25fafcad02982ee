// Where the run's testbed cannot show the paper's effect, said on each claim it concerns: a link
// at line rate from the smallest socket size, a window-limited regime that is one step, native and
// Docker round trips alike, and UDP's 1500 B collapse on a link that loses nothing.

import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { claimsScope, judgeClaims, type ClaimResult } from './judge.ts';
import { loadPlan } from '../../plan/plan-file.ts';
import type { Point } from '../../plan/plan.ts';
import { syntheticRun, type SyntheticRun } from '../../testing/synthetic.ts';

const PLANS = new URL('../../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const { plan } = loadPlan('paper', PLANS);

const udp = (p: Point) => (100 * Math.min(p.value, 1472)) / (Math.min(p.value, 1472) + 66);
const gradual = (_env: string, p: Point) =>
  p.test === 'TCP_STREAM' ? 94 * Math.min(1, 0.5 + p.value / 12000) : udp(p);
const oneStep = (_env: string, p: Point) => (p.test === 'TCP_STREAM' ? (p.value < 4000 ? 69 : 92) : udp(p));
const lineRate = (_env: string, p: Point) => (p.test === 'TCP_STREAM' ? 94 : udp(p));

function judged(
  mean: (env: string, p: Point) => number,
  edit: (r: SyntheticRun) => void = () => {},
): Record<string, ClaimResult> {
  const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 9, noise: 0.003, mean });
  edit(run);
  return Object.fromEntries(judgeClaims(run, CLAIMS).map((r) => [r.id, r]));
}

function withRoundTrips(native: number, docker: number) {
  return (run: SyntheticRun) => {
    for (const [env, us] of [
      ['native', native],
      ['docker', docker],
    ] as const) {
      run.manifest.environmentDescriptions[env]!.roundTrip = {
        tcpMicroseconds: us,
        udpMicroseconds: us,
        tcpProbes: 6,
        udpProbes: 6,
      };
    }
  };
}

describe('the limits of the testbed, on each claim', () => {
  it('a link at line rate from the smallest socket size: no window-limited regime, said on the TCP claims', () => {
    const r = judged(lineRate);
    expect(r['tcp-300-native-above-docker-about-4']!.limits.join(' ')).toMatch(
      /^On this link native TCP at -s 100: 94\.\d of its 94\.\d x 10\^6 bits\/s plateau \(100%\): this link shows no window-limited regime/,
    );
    // Replicates and UDP claims are not about the regime.
    expect(r['tcp-replicates-identical']!.limits).toEqual([]);
    expect(r['udp-none-beats-native']!.limits).toEqual([]);
  });

  it("a window-limited regime that is one step, not the paper's gradual change", () => {
    const step = judged(oneStep);
    expect(step['tcp-300-native-above-docker-about-4']!.limits.join(' ')).toMatch(
      /one step \(native 69\.\d to 92\.\d x 10\^6 bits\/s between 3\d00 and 4\d00 B, 100% of its whole rise/,
    );
    const run = syntheticRun({
      plan,
      environments: ['native', 'docker'],
      replicates: 3,
      seed: 9,
      noise: 0.003,
      mean: oneStep,
    });
    const scope = claimsScope(run, CLAIMS, judgeClaims(run, CLAIMS));
    expect(scope.cannotTest.join('\n')).toMatch(
      /The paper's gradual change over 2000-6000 B: the window-limited regime appears as one step/,
    );
    // A gradual rise is what the paper's TCP claims need: nothing to say.
    expect(judged(gradual)['tcp-300-native-above-docker-about-4']!.limits).toEqual([]);
  });

  it('native and Docker round trips within 5 us: a bridge-and-NAT cost cannot show', () => {
    const alike = judged(gradual, withRoundTrips(502.9, 504.2));
    expect(alike['tcp-300-native-above-docker-about-4']!.limits).toEqual([
      "Native and Docker round trips differ by 1 us (503 vs 504 us): a cost of Docker's bridge and NAT on the round trip, the way it would lower TCP throughput where the window limits it, cannot show here.",
    ]);
    expect(alike['tcp-300-native-above-docker-about-4']!.conditions).toMatch(
      /round trip \(TCP_RR\) native 503 us, docker 504 us/,
    );
    expect(judged(gradual, withRoundTrips(503, 560))['tcp-300-native-above-docker-about-4']!.limits).toEqual([]);
  });

  it('UDP at 1500 B on a link that loses nothing; not on a real link', () => {
    const embedded = judged(gradual)['udp-drop-at-1500']!;
    expect(embedded.limits.join(' ')).toMatch(
      /loses no packet on the wire .* the paper's collapse at 1500 B, .* cannot appear here\.$/,
    );
    const external = judged(gradual, (run) => {
      run.manifest.link = { kind: 'external', serverAddress: '198.18.7.1', shaping: 'none' } as never;
    })['udp-drop-at-1500']!;
    expect(external.limits).toEqual([]);
  });
});
