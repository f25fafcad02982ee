// A claim's other defensible reading judged beside the literal one, an undecided comparison that
// could not have detected the paper's effect called underpowered, and the series-alike kind.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { judgeClaims, verdictLabel, type ClaimResult } from './judge.ts';
import { parseClaims, type Claim } from './schema.ts';
import { loadPlan } from '../../plan/plan-file.ts';
import type { Point } from '../../plan/plan.ts';
import { syntheticRun } from '../../testing/synthetic.ts';

const PLANS = new URL('../../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const { plan } = loadPlan('paper', PLANS);
const byId = (id: string) => CLAIMS.claims.find((c) => c.id === id)!;

function judge(claim: Claim, mean: (env: string, p: Point) => number): ClaimResult {
  const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 4, noise: 0.003, mean });
  return judgeClaims(run, { formatVersion: 2, alpha: CLAIMS.alpha, claims: [claim] })[0]!;
}

/** Docker 3 x 10^6 bits/s below native in 2000-5000 B of the TCP series from 100 B, alike elsewhere. */
const gapIn2000to5000 = (env: string, p: Point) =>
  p.test === 'TCP_STREAM'
    ? 90 - (env === 'docker' && p.series === 'from-100' && p.value >= 2000 && p.value <= 5000 ? 3 : 0)
    : 50;

describe('the other reading of a claim', () => {
  const before5000 = byId('tcp-100-native-above-docker-before-5000');

  it("is judged too, and shown where its verdict differs from the literal reading's", () => {
    const r = judge(before5000, gapIn2000to5000);
    // Literally "before 5000 B": 5 points from 100 B, two of them without the gap.
    expect(r.verdict).toBe('inconclusive');
    expect(r.otherReading).toEqual(
      expect.objectContaining({
        reading: 'over 2000-5000 B, the part of Fig. 4b where the curves part',
        verdict: 'supported',
      }),
    );
    expect(r.finding).toMatch(
      /^Undecided: docker within [\d.]+ x 10\^6 bits\/s of native .* over from-100, 5 points, 100-4100 B;.* Read otherwise \(over 2000-5000 B, the part of Fig\. 4b where the curves part\), supported: Every part shown to hold: native above docker by [23]\.\d\d x 10\^6 bits\/s \(native - docker: mean [23]\.\d\d, 95% CI/,
    );
    expect(r.evidence).toMatch(
      /Read otherwise \(over 2000-5000 B[^)]*\): supported\. native - docker \(from-100, 3 points, 2100-4100 B\)/,
    );
    expect(r.otherReading!.finding).toMatch(/; with 95% confidence \(one-sided\) at least [\d.]+ x 10\^6 bits\/s\.$/);
  });

  it('is not repeated where both readings agree', () => {
    const r = judge(before5000, (_env, p) => (p.test === 'TCP_STREAM' ? 90 : 50));
    expect(r.verdict).toBe('refuted');
    expect(r.otherReading?.verdict).toBe('refuted');
    expect(r.finding).not.toMatch(/Read otherwise/);
    // The one-sided bound the test decides by, against the threshold (the 95% two-sided interval may reach past it).
    expect(r.finding).toMatch(
      /; with 95% confidence \(one-sided\) below [\d.]+ x 10\^6 bits\/s, short of the 1\.00 x 10\^6 bits\/s needed/,
    );
  });

  it('must make a valid claim, else the file is refused naming the claim and the field', () => {
    const raw = JSON.parse(readFileSync(join(PLANS, 'paper-claims.json'), 'utf8'));
    raw.claims.find((c: { id: string }) => c.id === before5000.id).otherReading.fields = { range: [5000, 2000] };
    expect(() => parseClaims(raw, 'x.json')).toThrow(
      /claims\[1\] \(tcp-100-native-above-docker-before-5000\)\.otherReading\.fields\.range: the claim read this way is not valid: expected \[from, to\] with from <= to/,
    );
  });
});

describe("an undecided comparison that could not have detected the paper's effect", () => {
  it('says "underpowered" and the smallest effect it could have detected', () => {
    const r = judge(byId('tcp-100-native-above-docker-before-5000'), gapIn2000to5000);
    expect(r.evidence).toMatch(
      /\(undecided: shown neither to hold \(Holm-adjusted p [\d.]+\) nor to fail \([\d.]+\); underpowered: at its precision \(standard error [\d.]+ x 10\^6 bits\/s, 4 df\) this test detects \(80% power, alpha 0\.05\) a difference of [\d.]+ x 10\^6 bits\/s or more, and the paper's effect is 1\.00 x 10\^6 bits\/s\)/,
    );
    // (t(0.95, 4) + t(0.8, 4)) x se: 2.132 + 0.941 standard errors.
    const se = Number(/standard error ([\d.]+) x 10/.exec(r.evidence)![1]);
    expect(Number(/a difference of ([\d.]+) x 10\^6/.exec(r.evidence)![1])).toBeCloseTo(3.073 * se, 1);
    const detectable = Number(/a difference of ([\d.]+) x 10\^6/.exec(r.evidence)![1]);
    expect(detectable).toBeGreaterThan(1);
    // Where the test is precise enough, nothing is said.
    const precise = judge(byId('tcp-100-native-above-docker-before-5000'), (env, p) =>
      p.test === 'TCP_STREAM' ? 90 - (env === 'docker' ? 0.9 : 0) : 50,
    );
    expect(precise.evidence).not.toMatch(/underpowered/);
  });
});

describe('series-alike: one series repeating another', () => {
  const similar = byId('tcp-300-repeats-100');
  const repeat = (factor: number) => (_env: string, p: Point) =>
    p.test === 'TCP_STREAM' ? 90 * (p.series === 'from-300' ? factor : 1) : 50;

  it('holds when the 300 B series is within 3% of the 100 B one, point by point', () => {
    const r = judge(similar, repeat(1.005));
    expect(verdictLabel(r)).toBe('inconclusive (holds for native and docker; kvm and osv not measured)');
    expect(r.finding).toMatch(
      /^Holds: for native, from-300 above from-100 by 0\.\d% \(from-300 - from-100: mean relative difference \+0\.\d%, 95% CI \[[^\]]+\]\) over 18 paired points, 300-17300 B against 100-17100 B; similar means within \+-3\.0%; for docker, .*\. Not measured: kvm and osv\.$/,
    );
  });
  it('fails when it is 10% off', () => {
    expect(judge(similar, repeat(0.9)).verdict).toBe('refuted');
  });
});
