// Every rule on synthetic data built to pass, and to fail each way it can: each test shapes the
// noiseless curves one claim is about (everything else as a plain testbed) and checks the verdict.

import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { judgeClaims, verdictLabel, type ClaimResult } from './judge.ts';
import type { Claim } from './schema.ts';
import { residualsFromRise } from './kinds/unstable.ts';
import { loadPlan } from '../../plan/plan-file.ts';
import type { Point } from '../../plan/plan.ts';
import { syntheticRun, type SyntheticOptions, type SyntheticRun } from '../../testing/synthetic.ts';
import { summarizePoints } from '../aggregate.ts';

const PLANS = new URL('../../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const { plan } = loadPlan('paper', PLANS);
const ALL = ['native', 'docker', 'kvm', 'osv'];

/** Native on a link with some latency: window-limited at small socket sizes, the plateau from 6000 B; UDP with per-frame overhead, fragmenting beyond 1472 B. */
function testbed(p: Point): number {
  if (p.test === 'TCP_STREAM') return 94 * Math.min(1, 0.5 + p.value / 12000);
  return p.value <= 1472 ? (100 * p.value) / (p.value + 66) : 12;
}

type Shape = (env: string, p: Point) => number;
const same: Shape = (_env, p) => testbed(p);
const tcpIn = (p: Point, series: string | null, from: number, to: number) =>
  p.test === 'TCP_STREAM' && (series === null || p.series === series) && p.value >= from && p.value <= to;

function run(shape: Shape, o: Partial<SyntheticOptions> = {}): SyntheticRun {
  return syntheticRun({ plan, environments: ALL, replicates: 3, seed: 7, noise: 0.003, mean: shape, ...o });
}

function claim(id: string, edit: Partial<Claim> = {}): Claim {
  return { ...CLAIMS.claims.find((c) => c.id === id)!, ...edit } as Claim;
}

function judge(c: Claim | string, data: SyntheticRun, alpha = CLAIMS.alpha): ClaimResult {
  return judgeClaims(data, { formatVersion: 2, alpha, claims: [typeof c === 'string' ? claim(c) : c] })[0]!;
}

function expectVerdict(r: ClaimResult, verdict: string): void {
  expect(verdictLabel(r), r.evidence).toBe(verdict);
}

describe('compare: the mean gap over a range against the interval the paper states', () => {
  const id = 'tcp-100-osv-above-native-docker-4-to-20';
  const osvBy =
    (gap: number, series = 'from-100'): Shape =>
    (env, p) =>
      testbed(p) + (env === 'osv' && tcpIn(p, series, 2000, 6000) ? gap : 0);

  it('holds inside "4 to 20"', () => {
    const r = judge(id, run(osvBy(10)));
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /^osv - native at 2100 B \(from-100\): 10\.\d\d, 95% CI \[\d+\.\d\d, \d+\.\d\d\] x 10\^6 bits\/s \(paired by replicate\) \(holds, Holm-adjusted p [^)]+\)\. osv - native at 3100 B/,
    );
    // Per point: every point of 2000-6000 B against each of native and Docker.
    expect(r.parts.map((p) => p.label)).toHaveLength(8);
  });
  it('fails below the 4 and above the 20 (both ends are checked)', () => {
    expectVerdict(judge(id, run(osvBy(1))), 'refuted');
    const above = judge(id, run(osvBy(30)));
    expectVerdict(above, 'refuted');
    expect(above.evidence).toMatch(/osv - native at 2100 B \(from-100\): 30\.\d\d.*\(fails, Holm-adjusted p/);
  });
  it('is judged on the series the paper gives the number for, not pooled', () => {
    // The gap is in the 300 B series only: Fig. 4a's claim (the 100 B series) fails.
    expectVerdict(judge(id, run(osvBy(10, 'from-300'))), 'refuted');
  });
  it('"about 4" is 2 to 6: a real +3 holds (a hard minimum of 4 would have refuted it)', () => {
    const docker3: Shape = (env, p) => testbed(p) - (env === 'docker' && tcpIn(p, 'from-300', 2000, 6000) ? 3 : 0);
    expectVerdict(judge('tcp-300-native-above-docker-about-4', run(docker3)), 'supported');
  });
  it('decides nothing on noise it cannot see through, on one replicate, or at a far stricter alpha', () => {
    expectVerdict(judge(id, run(osvBy(10), { noise: 0.15 })), 'inconclusive');
    expectVerdict(judge(id, run(osvBy(10), { replicates: 1 })), 'inconclusive');
    expectVerdict(judge(id, run(osvBy(10)), 1e-9), 'inconclusive');
  });
  it('Fig. 5: average ratios to native, not absolute gaps', () => {
    const docker: (f: number) => Shape = (f) => (env, p) =>
      testbed(p) * (env === 'docker' && p.test === 'TCP_STREAM' && p.value <= 6000 ? f : 1);
    const r = judge('tcp-fig5-native-above-docker-average-ratio', run(docker(0.95)));
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /native - docker \(all series, 12 points, 100-5300 B\): mean 0\.05\d, 95% CI \[[\d.]+, [\d.]+\] \(ratio to native\); the paper: at least 0\.010 \(ratio to native\)/,
    );
    expectVerdict(judge('tcp-fig5-native-above-docker-average-ratio', run(docker(0.999))), 'refuted');
  });
  it('an order: each neighbour against the next', () => {
    const ordered: Shape = (env, p) =>
      testbed(p) +
      (p.test === 'TCP_STREAM' && p.value <= 6000 ? ({ osv: 8, kvm: 4, docker: 0, native: 2 }[env] ?? 0) : 0);
    expectVerdict(judge('tcp-area-order-0-6000', run(ordered)), 'supported');
    const swapped: Shape = (env, p) => ordered(env === 'kvm' ? 'docker' : env === 'docker' ? 'kvm' : env, p);
    expectVerdict(judge('tcp-area-order-0-6000', run(swapped)), 'refuted');
  });
});

describe('every-point: at each point, over replicates', () => {
  const id = 'tcp-300-kvm-above-native-docker-every-point';
  it('holds when KVM is above native and Docker at every point of 2000-6000 B', () => {
    const r = judge(
      id,
      run((env, p) => testbed(p) + (env === 'kvm' && tcpIn(p, 'from-300', 2000, 6000) ? 4 : 0)),
    );
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /kvm - native at 2300 B \(from-300\): 4\.\d\d, 95% CI .* \(paired by replicate\) \(holds/,
    );
    expect(r.evidence.match(/\(holds/g)).toHaveLength(8);
  });
  it('fails at the one point where KVM is below', () => {
    const r = judge(
      id,
      run(
        (env, p) => testbed(p) + (env === 'kvm' && tcpIn(p, 'from-300', 2000, 6000) ? (p.value === 4300 ? -10 : 4) : 0),
      ),
    );
    expectVerdict(r, 'refuted');
    expect(r.evidence).toMatch(/kvm - native at 4300 B \(from-300\): -10\.\d\d.*\(fails/);
  });
  it('below before 4000 B and above after: both parts', () => {
    const crossing =
      (before: number, after: number): Shape =>
      (env, p) =>
        testbed(p) +
        (env === 'osv' && tcpIn(p, 'from-300', 0, 20000) ? 4 : 0) +
        (env === 'kvm' && tcpIn(p, 'from-300', 0, 20000) ? (p.value < 4000 ? before : after) : 0);
    expectVerdict(judge('tcp-300-kvm-below-osv-before-4000-above-after', run(crossing(1, 8))), 'supported');
    expectVerdict(judge('tcp-300-kvm-below-osv-before-4000-above-after', run(crossing(8, 1))), 'refuted');
    expectVerdict(judge('tcp-300-kvm-below-osv-before-4000-above-after', run(crossing(1, 8)), 1e-9), 'inconclusive');
  });
  it('pairs replicates by index when both environments have the same ones, and uses Welch when not', () => {
    const data = run((env, p) => testbed(p) + (env === 'kvm' && tcpIn(p, 'from-300', 2000, 6000) ? 4 : 0));
    const records = data.records.filter((r) => !(r.environment === 'native' && r.replicate === 3 && r.value === 2300));
    expect(judge(id, { ...data, records }).evidence).toMatch(/kvm - native at 2300 B \(from-300\): .* \(Welch\)/);
  });
});

describe("step: a fall over the steps of our grids that straddle the paper's", () => {
  const id = 'tcp-kvm-fall-3000-4000';
  const kvmFall =
    (factor: number, series: string | null = null): Shape =>
    (env, p) =>
      testbed(p) * (env === 'kvm' && tcpIn(p, series, 4001, 4500) ? factor : 1);
  it('holds when 3100->4100 and 3300->4300 both fall by at least 15%', () => {
    const r = judge(id, run(kvmFall(0.65)));
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /kvm 3100->4100 B \(from-100\): 71\.\d\d -> 51\.\d\d x 10\^6 bits\/s, a fall of 2\d\.\d%.*kvm 3300->4300 B \(from-300\)/,
    );
  });
  it('fails on a rise, on a fall too small, and when only one series falls', () => {
    expectVerdict(judge(id, run(same)), 'refuted');
    expectVerdict(judge(id, run(kvmFall(0.9 * (71.3 / 79.1)))), 'refuted');
    const one = judge(id, run(kvmFall(0.65, 'from-100')));
    expectVerdict(one, 'refuted');
    expect(one.evidence).toMatch(/3100->4100 B .*\(holds.*3300->4300 B .*\(fails/);
  });
  it('is undecided by a fall of 15% exactly under noise, and at a far stricter alpha', () => {
    // 4100 B falls to 85% of 3100 B and 4300 B to 85% of 3300 B: on the threshold.
    const onThreshold: Shape = (env, p) =>
      env === 'kvm' && tcpIn(p, null, 4001, 4500) ? 0.85 * testbed({ ...p, value: p.value - 1000 }) : testbed(p);
    // (Seed 7 happens to draw kvm's three replicates at 3100 B all about 2 sd high.)
    expectVerdict(judge(id, run(onThreshold, { noise: 0.03, seed: 8 })), 'inconclusive');
    expectVerdict(judge(id, run(kvmFall(0.65)), 1e-9), 'inconclusive');
  });
  it('UDP: the drop at 1500 B in every environment', () => {
    expectVerdict(judge('udp-drop-at-1500', run(same)), 'supported');
    expectVerdict(
      judge(
        'udp-drop-at-1500',
        run((_e, p) => (p.test === 'UDP_STREAM' ? 95 : testbed(p))),
      ),
      'refuted',
    );
  });
});

describe('rise: gradual, from the first point to the last', () => {
  const id = 'udp-gradual-rise-below-1450';
  it('holds on a rising curve', () => expectVerdict(judge(id, run(same)), 'supported'));
  it('fails on a step down in the middle, and on a flat curve', () => {
    const dip = judge(
      id,
      run((_e, p) => testbed(p) * (p.test === 'UDP_STREAM' && p.value === 750 ? 0.8 : 1)),
    );
    expectVerdict(dip, 'refuted');
    expect(dip.evidence).toMatch(/native 650->750 B \(from-50\): -1\d\.\d% \(fails/);
    expectVerdict(
      judge(
        id,
        run((_e, p) => (p.test === 'UDP_STREAM' ? 90 : testbed(p))),
      ),
      'refuted',
    );
  });
  it('decides nothing at a far stricter alpha', () =>
    expectVerdict(judge(id, run(same, { noise: 0.01 }), 1e-9), 'inconclusive'));
});

describe('unstable: a variance comparison with native', () => {
  const id = 'tcp-kvm-unstable';
  const zigzag =
    (amplitude: number): Shape =>
    (env, p) =>
      testbed(p) *
      (env === 'kvm' && p.test === 'TCP_STREAM' ? 1 + amplitude * (Math.round(p.value / 1000) % 2 ? 1 : -1) : 1);
  it('the residuals are taken from a non-decreasing fit: a rising curve leaves only noise, a zig-zag leaves its swings', () => {
    const rising = summarizePoints(run(same, { noise: 0 }).records).filter(
      (p) => p.environment === 'kvm' && p.test === 'TCP_STREAM',
    );
    expect(Math.max(...residualsFromRise(rising).map(Math.abs))).toBeLessThan(0.001);
    const swinging = summarizePoints(run(zigzag(0.1), { noise: 0 }).records).filter(
      (p) => p.environment === 'kvm' && p.test === 'TCP_STREAM',
    );
    expect(Math.max(...residualsFromRise(swinging).map(Math.abs))).toBeGreaterThan(0.05);
  });
  it("holds when KVM swings up and down around native's rise", () => {
    const r = judge(id, run(zigzag(0.1)));
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /mean absolute deviation from a non-decreasing fit: kvm [\d.]+% \(114 replicates\), native [\d.]+% \(114\); ratio [\d.]+; the claim needs more than 1\.50 \(holds/,
    );
    expect(r.parts.map((p) => p.label)).toEqual(['kvm vs native', 'kvm vs docker', 'kvm vs osv']);
  });
  it('fails when KVM is as steady as native (even with a fall or two of the mean from noise)', () =>
    expectVerdict(judge(id, run(same)), 'refuted'));
  it('decides nothing on one replicate or at a far stricter alpha', () => {
    expectVerdict(judge(id, run(zigzag(0.1), { replicates: 1 })), 'inconclusive');
    expectVerdict(judge(id, run(zigzag(0.02), { noise: 0.01 }), 1e-9), 'inconclusive');
  });
});

describe('converge: only after a divergence, on the worst point from 5000 B', () => {
  const id = 'tcp-converge-after-5000';
  const diverging =
    (beyond: number): Shape =>
    (env, p) =>
      testbed(p) * (env !== 'native' && p.test === 'TCP_STREAM' ? (p.value < 5000 ? 0.9 : beyond) : 1);
  it('holds when every curve diverged below 5000 B and every point from there is within 2%', () => {
    // Every one of 28 points within 2% takes more precision than 3 replicates at 0.3% give.
    expectVerdict(judge(id, run(diverging(1))), 'inconclusive');
    const r = judge(id, run(diverging(1), { replicates: 6 }));
    expectVerdict(r, 'supported');
    expect(r.evidence).toMatch(
      /docker vs native: largest deviation below 4999 B: -10\.\d% at \d+ B \(from-\d+\), beyond \+-2% \(Holm p [^)]+\); beyond 5000 B \(28 points\): largest deviation/,
    );
  });
  it('fails when a curve stays away from 5000 B', () => {
    const r = judge(
      id,
      run((env, p) => diverging(env === 'kvm' ? 0.92 : 1)(env, p)),
    );
    expectVerdict(r, 'refuted');
    expect(r.evidence).toMatch(/kvm vs native: .*largest deviation -8\.\d%.*\(fails/);
  });
  it("cannot converge what never diverged: curves like native's throughout are inconclusive", () => {
    const r = judge(id, run(same));
    expectVerdict(r, 'inconclusive');
    expect(r.evidence).toMatch(
      /docker vs native: .*not shown beyond the tolerance.*No divergence shown: nothing to converge from/,
    );
  });
  it('decides nothing at a far stricter alpha', () =>
    expectVerdict(judge(id, run(diverging(1), { noise: 0.005 }), 1e-9), 'inconclusive'));
});

describe('equivalent: two one-sided tests against a stated margin', () => {
  const id = 'udp-alike-below-1400';
  it('holds when Docker, KVM and OSv are within 3% of each other', () =>
    expectVerdict(judge(id, run(same)), 'supported'));
  it('fails when one is 10% off', () => {
    const r = judge(
      id,
      run((env, p) => testbed(p) * (env === 'osv' ? 0.9 : 1)),
    );
    expectVerdict(r, 'refuted');
    expect(r.evidence).toMatch(
      /docker vs osv \(all series, 14 points, 50-1350 B\): mean relative difference \+11\.\d%.*\(fails/,
    );
  });
  it('decides nothing on noise it cannot see through, or at a far stricter alpha', () => {
    expectVerdict(judge(id, run(same, { noise: 0.2 })), 'inconclusive');
    expectVerdict(judge(id, run(same, { noise: 0.02 }), 1e-9), 'inconclusive');
  });
  it('an okay rate, with an absolute margin', () => {
    const rates = (kvm: number) => ({ okRate: (env: string) => (env === 'kvm' ? kvm : 0.9) });
    expectVerdict(judge('udp-docker-kvm-okay-rate-alike', run(same, rates(0.903))), 'supported');
    expectVerdict(judge('udp-docker-kvm-okay-rate-alike', run(same, rates(0.95))), 'refuted');
  });
});

describe('fades: an advantage shown inside, gone outside', () => {
  const id = 'udp-osv-okay-advantage-fades';
  const rates = (inside: number, outside: number) => ({
    okRate: (env: string, x: number) => (env === 'osv' ? (x >= 250 && x <= 900 ? inside : outside) : 0.9),
  });
  it('holds when the advantage in 250-900 B is less than half as large beyond', () =>
    expectVerdict(judge(id, run(same, rates(0.99, 0.91))), 'supported'));
  it('fails when the advantage stays', () => expectVerdict(judge(id, run(same, rates(0.99, 0.98))), 'refuted'));
  it('has nothing to fade without an advantage inside', () => {
    const r = judge(id, run(same, rates(0.9, 0.9)));
    expectVerdict(r, 'inconclusive');
    expect(r.evidence).toMatch(/no advantage shown inside .*nothing to fade/);
  });
});

describe('replicates-agree: the paper\'s "three replicates identical"', () => {
  const id = 'tcp-replicates-identical';
  it('holds when replicates differ by far less than 1%', () =>
    expectVerdict(judge(id, run(same, { noise: 0.002 })), 'supported'));
  it('fails when they spread by 5%', () => expectVerdict(judge(id, run(same, { noise: 0.05 })), 'refuted'));
  it('fails on one disturbed replicate, and names where', () => {
    const data = run(same, { noise: 0.002 });
    const records = data.records.map((r) =>
      r.environment === 'native' && r.replicate === 2 && r.test === 'TCP_STREAM' && r.value === 7100
        ? { ...r, metrics: { ...r.metrics!, throughputMbps: r.metrics!.throughputMbps * 0.8 } }
        : r,
    );
    const r = judge(id, { ...data, records });
    expectVerdict(r, 'refuted');
    expect(r.evidence).toMatch(/native at 7100 B \(from-100\): 1\d\.\d\d% \(fails, Holm-adjusted p/);
  });
  it('decides nothing at a far stricter alpha', () =>
    expectVerdict(judge(id, run(same, { noise: 0.007 }), 1e-9), 'inconclusive'));
});
