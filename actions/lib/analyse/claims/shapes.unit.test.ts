// The verdict by the claim's shape, on synthetic data: a claim about every part is refuted by one
// judged part shown to fail, even when other parts ran under TCG; a claim about some part is
// supported by one judged part shown to hold; otherwise inconclusive, with a qualifier per
// environment. TCG parts stay out of the Holm families.

import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { countsLine, countVerdicts, decide, judgeClaims, verdictLabel, type ClaimResult } from './judge.ts';
import type { Claim } from './schema.ts';
import { fmt, type Part } from './rules.ts';
import { loadPlan } from '../../plan/plan-file.ts';
import type { Point } from '../../plan/plan.ts';
import { syntheticRun } from '../../testing/synthetic.ts';

const PLANS = new URL('../../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const { plan } = loadPlan('paper', PLANS);
const ALL = ['native', 'docker', 'kvm', 'osv'];

/** UDP: per-frame overhead below 1472 B, then a fall of `fall` (a fraction) per environment at 1550 B. */
const udp = (fall: Record<string, number>) => (env: string, p: Point) => {
  if (p.test === 'TCP_STREAM') return 94;
  const before = (100 * Math.min(p.value, 1472)) / (Math.min(p.value, 1472) + 66);
  return p.value <= 1472 ? before : before * (1 - (fall[env] ?? 0));
};

function judgeOn(
  claim: Claim,
  mean: (env: string, p: Point) => number,
  accelerator: 'kvm' | 'tcg',
  environments = ALL,
): ClaimResult {
  const run = syntheticRun({ plan, environments, replicates: 3, seed: 5, noise: 0.003, accelerator, mean });
  return judgeClaims(run, { formatVersion: 2, alpha: CLAIMS.alpha, claims: [claim] })[0]!;
}

const drop = CLAIMS.claims.find((c) => c.id === 'udp-drop-at-1500')!;

describe('a claim about every part', () => {
  it('is refuted by the environments that can be judged, even when the others ran under TCG', () => {
    const r = judgeOn(drop, udp({ native: 0.03, docker: 0.03, kvm: 0.9, osv: 0.9 }), 'tcg');
    expect(verdictLabel(r)).toBe('refuted (fails for native and docker; kvm and osv not judged: TCG)');
    expect(r.onlyTcg).toBe(false);
    expect(r.finding).toMatch(
      /^Shown to fail: native falls [23]\.\d% from 1450 to 1550 B \(from-50; 95% CI \[[^\]]+\]\); the claim needs a fall of at least 50%; docker falls [23]\.\d%/,
    );
  });
  it('is inconclusive, only for TCG, when every judged part holds', () => {
    const r = judgeOn(drop, udp({ native: 0.9, docker: 0.9, kvm: 0.03, osv: 0.03 }), 'tcg');
    expect(verdictLabel(r)).toBe('inconclusive (holds for native and docker; kvm and osv not judged: TCG)');
    expect(r.onlyTcg).toBe(true);
    // The same data under KVM: the guests' parts are judged, and refute.
    expect(judgeOn(drop, udp({ native: 0.9, docker: 0.9, kvm: 0.03, osv: 0.03 }), 'kvm').verdict).toBe('refuted');
  });
  it('is supported only when every part on every environment holds', () => {
    expect(judgeOn(drop, udp({ native: 0.9, docker: 0.9, kvm: 0.9, osv: 0.9 }), 'kvm').verdict).toBe('supported');
    const partial = judgeOn(drop, udp({ native: 0.9, docker: 0.9 }), 'kvm', ['native', 'docker']);
    expect(verdictLabel(partial)).toBe('inconclusive (holds for native and docker; kvm and osv not measured)');
    expect(partial.onlyTcg).toBe(false);
  });
});

describe('a claim about some part', () => {
  const some: Claim = { ...drop, id: 'udp-drop-somewhere', quantifier: 'some' };
  it('is supported by one judged part that holds, whatever the TCG parts do', () => {
    const r = judgeOn(some, udp({ native: 0.9, docker: 0.03, kvm: 0.03, osv: 0.03 }), 'tcg');
    expect(verdictLabel(r)).toBe('supported (holds for native; fails for docker; kvm and osv not judged: TCG)');
    expect(r.finding).toMatch(/^Shown to hold: native falls 90\.0% from 1450 to 1550 B/);
    expect(r.evidence).toMatch(/docker 1450->1550 B .*\(fails, Holm-adjusted p [^)]+, not enough on its own\)/);
  });
  it('is refuted only when every part, on every environment, fails', () => {
    expect(judgeOn(some, udp({}), 'kvm').verdict).toBe('refuted');
    const r = judgeOn(some, udp({}), 'tcg');
    expect(verdictLabel(r)).toBe('inconclusive (fails for native and docker; kvm and osv not judged: TCG)');
    expect(r.onlyTcg).toBe(true);
    expect(judgeOn(some, udp({}), 'kvm', ['native', 'docker']).verdict).toBe('inconclusive');
  });
});

describe('the Holm families', () => {
  const part = (label: string, env: string, pRefute: number): Part => ({
    label,
    environments: [env],
    text: label,
    pSupport: 1 - pRefute,
    pRefute,
  });
  it('leave the TCG parts out: they neither dilute a judged part nor decide', () => {
    const parts = [part('native', 'native', 0.03), part('kvm', 'kvm', 0.5), part('osv', 'osv', 0.5)];
    // With the TCG parts in the family, Holm would multiply 0.03 by 3.
    expect(decide(parts, 0.05, new Set()).verdict).toBe('inconclusive');
    const tcg = decide(parts, 0.05, new Set(['kvm', 'osv']));
    expect(tcg.verdict).toBe('refuted');
    expect(tcg.parts.map((p) => `${p.label}: ${p.outcome}${p.tcg ? ' (TCG)' : ''}`)).toEqual([
      'native: fails',
      'kvm: undecided (TCG)',
      'osv: undecided (TCG)',
    ]);
    // A TCG part clearly failing on its own is shown, and decides nothing.
    const only = decide([part('native', 'native', 0.9), part('kvm', 'kvm', 0.0001)], 0.05, new Set(['kvm']));
    expect(only.verdict).toBe('inconclusive');
    expect(only.evidence).toMatch(/kvm \(TCG: not judged; on its own it would fail\)/);
  });
});

describe('the finding', () => {
  it('names the parts that decided, in plain words, a long list cut after six with how many more', () => {
    const parts: Part[] = Array.from({ length: 8 }, (_, i) => ({
      label: `p${i}`,
      environments: ['native'],
      text: `p${i} numbers`,
      finding: `p${i} holds in words`,
      pSupport: 1e-6,
      pRefute: 1,
    }));
    const d = decide(parts, 0.05, new Set());
    expect(d.verdict).toBe('supported');
    expect(d.finding).toBe(
      "Every part shown to hold: p0 holds in words; p1 holds in words; p2 holds in words; p3 holds in words; p4 holds in words; p5 holds in words; and 2 more parts like these (each part's outcome: analysis.json).",
    );
    // Every part is in the evidence.
    for (let i = 0; i < 8; i++) expect(d.evidence).toContain(`p${i} numbers (holds, Holm-adjusted p`);
  });
  it('never prints a negative zero', () => {
    expect(fmt(-0.001)).toBe('0.00');
    expect(fmt(-0.004, 2)).toBe('0.00');
    expect(fmt(-0.006, 2)).toBe('-0.01');
    expect(fmt(-0.4, 0)).toBe('0');
  });
  it('leaves out parts that can only refute, unless they do', () => {
    const pooled: Part = {
      label: 'pooled',
      environments: ['native'],
      text: 'pooled',
      finding: 'pooled in words',
      pSupport: 0.9,
      pRefute: 0.9,
    };
    const point: Part = {
      label: 'point',
      environments: ['native'],
      text: 'point',
      finding: 'point in words',
      pSupport: null,
      pRefute: 0.9,
      onlyRefutes: true,
    };
    expect(decide([pooled, point], 0.05, new Set()).finding).toBe('Undecided: pooled in words.');
    expect(decide([pooled, { ...point, pRefute: 1e-6 }], 0.05, new Set()).finding).toBe(
      'Shown to fail: point in words.',
    );
  });
});

describe('the counts', () => {
  it('say how many inconclusive claims are so only for TCG', () => {
    const c = (verdict: ClaimResult['verdict'], onlyTcg = false) => ({ verdict, onlyTcg });
    const claims = [c('supported'), c('refuted'), c('refuted'), c('inconclusive', true), c('inconclusive')];
    expect(countVerdicts(claims)).toEqual({ supported: 1, refuted: 2, inconclusive: 2, onlyTcg: 1 });
    expect(countsLine(claims)).toBe(
      '5 claims: 1 supported, 2 refuted, 2 inconclusive (1 of them only because a guest ran under TCG)',
    );
    expect(countsLine([c('inconclusive')])).toBe('1 claim: 0 supported, 0 refuted, 1 inconclusive');
  });
});
