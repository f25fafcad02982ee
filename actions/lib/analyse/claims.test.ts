import { describe, expect, it } from 'vitest';
import { judgeClaims, PAPER_CLAIMS, validateClaims, type ClaimResult } from './claims.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { syntheticRun } from '../testing/synthetic.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const { plan } = loadPlan('paper', PLANS);
const ALL = ['native', 'docker', 'kvm', 'osv'];
const byId = (rs: ClaimResult[]) => Object.fromEntries(rs.map((r) => [r.id, r]));

describe('the claims file', () => {
  it('is valid and lists the claims the issue asks for', () => {
    const ids = PAPER_CLAIMS.claims.map((c) => c.id);
    for (const id of ['tcp-osv-above-native-2000-6000', 'tcp-native-above-docker-2000-6000', 'tcp-kvm-unstable', 'tcp-converge-beyond-6000', 'udp-drop-at-1500', 'udp-native-best-beyond-1450', 'udp-kvm-beats-docker-osv-beyond-1450', 'udp-osv-okay-rate-250-900']) expect(ids).toContain(id);
  });
  it('rejects a bad claim with a message naming it', () => {
    expect(() => validateClaims({ alpha: 0.05, claims: [{ id: 'x', text: 't', section: 's', judged: 'j', test: 'TCP_STREAM', kind: 'compare', range: [5, 1], metric: 'throughput', margin: 1 }] })).toThrow(/claims\[0\] \(x\)\.range.*\n.*needs "above" and "below"/s);
    expect(() => validateClaims({ alpha: 2, claims: [{ kind: 'guess' }] })).toThrow(/alpha.*kind: expected one of/s);
  });
});

describe('judgeClaims', () => {
  it('supports the paper on data shaped like the paper', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 11 });
    const r = byId(judgeClaims({ manifest: run.manifest, records: run.records }));
    for (const id of ['tcp-osv-above-native-2000-6000', 'tcp-native-above-docker-2000-6000', 'tcp-kvm-unstable', 'tcp-converge-beyond-6000', 'udp-drop-at-1500', 'udp-osv-okay-rate-250-900']) {
      expect(r[id]!.verdict, `${id}: ${r[id]!.evidence}`).toBe('supported');
    }
    expect(r['tcp-osv-above-native-2000-6000']!.evidence).toMatch(/osv - native: mean 10\.\d+ x 10\^6 bits\/s over 8 points, 95% CI/);
    expect(r['tcp-kvm-unstable']!.evidence).toMatch(/3100->4100 B/);
  });

  it('refutes the paper on flat curves like the testbed', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 12, profile: 'flat' });
    const r = byId(judgeClaims({ manifest: run.manifest, records: run.records }));
    for (const id of ['tcp-osv-above-native-2000-6000', 'tcp-native-above-docker-2000-6000', 'tcp-kvm-unstable', 'udp-drop-at-1500', 'udp-osv-okay-rate-250-900']) {
      expect(r[id]!.verdict, `${id}: ${r[id]!.evidence}`).toBe('refuted');
    }
    expect(r['tcp-converge-beyond-6000']!.verdict).toBe('supported');
  });

  it('does not call a noisy KVM curve steady: falls hidden by the replicates spread are inconclusive', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 12, profile: 'flat' });
    // Like KVM under TCG: the mean zig-zags by ~15% from point to point, but every point's
    // replicates spread from 40 to 94 Mbit/s, so no single fall is significant.
    const zigzag: Record<number, number[]> = { 0: [40, 94, 94], 1: [94, 40, 60] };
    const records = run.records.map((r) => {
      if (r.environment !== 'kvm' || r.test !== 'TCP_STREAM' || !r.metrics) return r;
      const step = Math.round((r.value - (r.series === 'from-100' ? 100 : 300)) / 1000) % 2;
      return { ...r, metrics: { ...r.metrics, throughputMbps: zigzag[step]![r.replicate - 1]! } };
    });
    const r = byId(judgeClaims({ manifest: run.manifest, records }));
    expect(r['tcp-kvm-unstable']!.verdict, r['tcp-kvm-unstable']!.evidence).toBe('inconclusive');
    expect(r['tcp-kvm-unstable']!.evidence).toMatch(/kvm: 0 significant drops.*falls of the mean of at least 5%, none significant/);
  });

  it('a run missing an environment leaves the claims needing it inconclusive, never false', () => {
    const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 13 });
    const r = byId(judgeClaims({ points: undefined, records: run.records }));
    expect(r['tcp-osv-above-native-2000-6000']!.verdict).toBe('inconclusive');
    expect(r['tcp-osv-above-native-2000-6000']!.evidence).toMatch(/Not measured in this run: osv/);
    expect(r['tcp-kvm-unstable']!.verdict).toBe('inconclusive');
    expect(r['tcp-native-above-docker-2000-6000']!.verdict).toBe('supported');
    // Supported by the environments present, but "every environment" needs all four.
    expect(r['udp-drop-at-1500']!.verdict).toBe('inconclusive');
  });

  it('says why an environment is missing when it failed', () => {
    const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 2, seed: 16 });
    const r = byId(judgeClaims({ manifest: { ...run.manifest, environmentErrors: { osv: 'no OSv image' } }, records: run.records }));
    expect(r['tcp-osv-above-native-2000-6000']!.evidence).toMatch(/Not measured in this run: osv \(it failed: no OSv image\)/);
  });

  it('a counterexample in a present environment refutes an "every environment" claim', () => {
    const run = syntheticRun({ plan, environments: ['native'], replicates: 3, seed: 14, profile: 'flat' });
    expect(byId(judgeClaims({ records: run.records }))['udp-drop-at-1500']!.verdict).toBe('refuted');
  });

  it('takes a loaded run as it is', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 11 });
    const loaded = { dir: 'x', manifest: run.manifest, results: { records: run.records, truncatedLastLine: null } };
    expect(judgeClaims(loaded)).toEqual(judgeClaims({ records: run.records }));
  });

  it('one replicate decides nothing', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 1, seed: 15 });
    const results = judgeClaims({ records: run.records });
    expect(results.every((c) => c.verdict === 'inconclusive')).toBe(true);
  });
});
