import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { claimsScope, decide, judgeClaims, testbedCondition, verdictLabel, type ClaimResult } from './judge.ts';
import { ClaimsFormatError, parseClaims, type ClaimsFile } from './schema.ts';
import type { Part } from './rules.ts';
import { loadPlan } from '../../plan/plan-file.ts';
import { syntheticRun } from '../../testing/synthetic.ts';
import { environmentTitle } from '../environment-names.ts';
import { runCharts } from '../../report/report.ts';
import { analyseRun } from '../run.ts';
import { softwareTable } from '../tables.ts';

const PLANS = new URL('../../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const { plan } = loadPlan('paper', PLANS);
const ALL = ['native', 'docker', 'kvm', 'osv'];
const byId = (rs: ClaimResult[]) => Object.fromEntries(rs.map((r) => [r.id, r]));
const work = mkdtempSync(join(tmpdir(), 'virtnet-claims-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The paper's file with one claim replaced by `edit` of it, as raw JSON. */
function rawWith(id: string, edit: (c: Record<string, unknown>) => void): unknown {
  const raw = JSON.parse(readFileSync(join(PLANS, 'paper-claims.json'), 'utf8'));
  edit(raw.claims.find((c: { id: string }) => c.id === id));
  return raw;
}

describe('the claims file', () => {
  it('is valid, and holds the claims the paper makes, the missing ones included', () => {
    const ids = CLAIMS.claims.map((c) => c.id);
    for (const id of [
      'tcp-100-osv-above-native-docker-4-to-20',
      'tcp-300-osv-above-native-about-4',
      'tcp-300-native-above-docker-about-4',
      'tcp-kvm-fall-3000-4000',
      'tcp-kvm-unstable',
      'tcp-converge-after-5000',
      'tcp-300-kvm-above-native-docker-every-point',
      'tcp-300-kvm-below-osv-before-4000-above-after',
      'tcp-fig5-osv-best-average-ratio',
      'tcp-fig5-native-above-docker-average-ratio',
      'tcp-replicates-identical',
      'udp-gradual-rise-below-1450',
      'udp-drop-at-1500',
      'udp-alike-below-1400',
      'udp-docker-kvm-okay-rate-alike',
      'udp-osv-okay-advantage-fades',
      'udp-none-beats-native',
      'udp-virtual-above-native-below-1400',
    ])
      expect(ids).toContain(id);
  });

  it('notes the paper contradicting itself on UDP, in the file and on both claims', () => {
    expect(CLAIMS.notes?.join(' ')).toMatch(/contradicts itself on UDP.*Section IV.*Section V\.B/s);
    const none = CLAIMS.claims.find((c) => c.id === 'udp-none-beats-native')!;
    const below = CLAIMS.claims.find((c) => c.id === 'udp-virtual-above-native-below-1400')!;
    expect(none.contradicts).toEqual([below.id]);
    expect(below.contradicts).toEqual([none.id]);
  });

  it('names the file, the claim, the field path and the value of a misspelled field', () => {
    const raw = rawWith('tcp-kvm-unstable', (c) => {
      c.minimumSpread = c.spreadRatio;
      delete c.spreadRatio;
    });
    let message = '';
    try {
      parseClaims(raw, 'env/plans/paper-claims.json');
    } catch (e) {
      expect(e).toBeInstanceOf(ClaimsFormatError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^env\/plans\/paper-claims\.json is not a valid claims file:/);
    expect(message).toMatch(
      /claims\[5\] \(tcp-kvm-unstable\)\.minimumSpread: unknown field \(value 1\.5\); a unstable claim has .*spreadRatio/,
    );
    expect(message).toMatch(/claims\[5\] \(tcp-kvm-unstable\)\.spreadRatio: missing: expected number \(got nothing\)/);
  });

  it('refuses wrong values, unknown kinds, duplicate ids and dangling references, all at once', () => {
    const raw = rawWith('udp-drop-at-1500', (c) => {
      c.fall = [0.5, 0.2];
      (c.steps as { from: unknown }[])[0]!.from = '1450';
    }) as { claims: Record<string, unknown>[]; alpha: unknown };
    raw.claims.push({ ...raw.claims[0], kind: 'guess' });
    raw.alpha = 0.7;
    const message = (() => {
      try {
        parseClaims(raw, 'x.json');
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toMatch(/alpha: Too big: expected number to be <0\.5 \(got 0\.7\)/);
    expect(message).toMatch(
      /claims\[19\] \(udp-drop-at-1500\)\.fall: expected \[low, high\] with low < high, or \[low, null\] \(got \[0\.5,0\.2\]\)/,
    );
    expect(message).toMatch(
      /claims\[19\] \(udp-drop-at-1500\)\.steps\[0\]\.from: expected number, received string \(got "1450"\)/,
    );
    expect(message).toMatch(
      /claims\[29\] \(tcp-100-osv-above-native-docker-4-to-20\)\.kind: got "guess", expected one of compare, every-point, step, rise, unstable, converge, equivalent, fades, replicates-agree, series-alike/,
    );
  });

  it('refuses duplicate ids and references to claims that do not exist', () => {
    const raw = rawWith('tcp-kvm-fall-3000-4000', (c) => (c.contradicts = ['no-such-claim'])) as {
      claims: Record<string, unknown>[];
    };
    raw.claims.push({ ...raw.claims[1] });
    expect(() => parseClaims(raw, 'x.json')).toThrow(
      /claims\[29\] \(tcp-100-native-above-docker-before-5000\)\.id: duplicate id \(got "tcp-100-native-above-docker-before-5000"\)\n.*claims\[3\] \(tcp-kvm-fall-3000-4000\)\.contradicts\[0\]: no claim has this id \(got "no-such-claim"\)/s,
    );
  });

  it('needs a compare claim to say who is above whom', () => {
    expect(() =>
      parseClaims(
        rawWith('udp-kvm-best-virtual', (c) => delete c.below),
        'x.json',
      ),
    ).toThrow(/claims\[21\] \(udp-kvm-best-virtual\)\.below: missing: "above" and "below" go together/);
    expect(() =>
      parseClaims(
        rawWith('udp-kvm-best-virtual', (c) => (c.order = ['kvm', 'osv'])),
        'x.json',
      ),
    ).toThrow(/\.order: give either "above" and "below" or "order", not both/);
  });

  it('loads a built-in name or a path, and says what is wrong with either', () => {
    expect(() => loadClaims('nope', PLANS)).toThrow(
      /unknown claims "nope": expected one of paper, or the path of a claims file/,
    );
    expect(() => loadClaims(join(work, 'missing.json'), PLANS)).toThrow(/claims file .*missing\.json does not exist/);
    writeFileSync(join(work, 'broken.json'), '{ "claims": [');
    expect(() => loadClaims(join(work, 'broken.json'), PLANS)).toThrow(/claims file .*broken\.json is not valid JSON/);
    const mine = join(work, 'mine.json');
    writeFileSync(mine, JSON.stringify({ formatVersion: 2, alpha: 0.01, claims: [CLAIMS.claims[0]] }));
    expect(loadClaims(mine, PLANS).claims.map((c) => c.id)).toEqual([CLAIMS.claims[0]!.id]);
  });

  it('points editors at the generated JSON Schema (scripts/generate-schemas.unit.test.ts keeps it current)', () => {
    expect(JSON.parse(readFileSync(join(PLANS, 'paper-claims.json'), 'utf8')).$schema).toBe('./claims.schema.json');
  });
});

describe('judging', () => {
  it('Holm across the parts of one claim: three parts at p 0.03 each do not make a claim, one does', () => {
    const part = (label: string, p: number): Part => ({
      label,
      environments: ['native'],
      text: label,
      pSupport: p,
      pRefute: 1 - p,
    });
    expect(decide([part('a', 0.03)], 0.05, new Set()).verdict).toBe('supported');
    const three = decide([part('a', 0.03), part('b', 0.03), part('c', 0.03)], 0.05, new Set());
    expect(three.verdict).toBe('inconclusive');
    expect(three.evidence).toMatch(
      /a \(undecided: shown neither to hold \(Holm-adjusted p 0\.090\) nor to fail \(1\.0\)\)/,
    );
    // One part clearly failing refutes, whatever the others do.
    expect(decide([part('a', 0.001), part('b', 0.9999)], 0.05, new Set()).verdict).toBe('refuted');
  });

  it("uses the file's alpha: a stricter one decides less (each rule: rules.unit.test.ts)", () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 21, noise: 0.02 });
    const decided = (alpha: number) =>
      judgeClaims(run, { ...CLAIMS, alpha }).filter((r) => r.verdict !== 'inconclusive').length;
    expect(decided(1e-9)).toBeLessThan(decided(0.2));
  });

  it('a run missing an environment leaves the claims needing it inconclusive and says why; a present counterexample still refutes', () => {
    const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 13, profile: 'flat' });
    const r = byId(
      judgeClaims(
        { manifest: { ...run.manifest, environmentErrors: { osv: 'no OSv image' } }, records: run.records },
        CLAIMS,
      ),
    );
    expect(r['tcp-100-osv-above-native-docker-4-to-20']!.verdict).toBe('inconclusive');
    expect(r['tcp-100-osv-above-native-docker-4-to-20']!.evidence).toMatch(
      /^Not measured in this run: osv \(it failed: no OSv image\)\./,
    );
    expect(r['tcp-100-osv-above-native-docker-4-to-20']!.missing).toEqual(['osv']);
    // Flat native and docker: "native above docker" fails on the environments present.
    expect(r['tcp-300-native-above-docker-about-4']!.verdict).toBe('refuted');
    expect(r['udp-drop-at-1500']!.verdict).toBe('refuted');
  });

  it('takes a loaded run as it is, and one replicate decides nothing', () => {
    const run = syntheticRun({ plan, environments: ALL, replicates: 3, seed: 11 });
    expect(judgeClaims({ manifest: run.manifest, results: { records: run.records } }, CLAIMS)).toEqual(
      judgeClaims(run, CLAIMS),
    );
    const single = syntheticRun({ plan, environments: ALL, replicates: 1, seed: 15 });
    expect(judgeClaims(single, CLAIMS).every((c) => c.verdict === 'inconclusive')).toBe(true);
  });
});

describe('TCG, not KVM', () => {
  const kvmData = (accelerator: 'kvm' | 'tcg') =>
    syntheticRun({ plan, environments: ALL, replicates: 3, seed: 11, accelerator });

  it('a part involving a guest that ran under TCG is shown, not judged: it never supports, and the judged parts still refute', () => {
    const onKvm = byId(judgeClaims(kvmData('kvm'), CLAIMS));
    const onTcg = byId(judgeClaims(kvmData('tcg'), CLAIMS));
    // The same numbers decide these claims under KVM ...
    expect(onKvm['tcp-kvm-fall-3000-4000']!.verdict).toBe('supported');
    expect(onKvm['tcp-100-osv-above-native-docker-4-to-20']!.verdict).toBe('supported');
    expect(onKvm['udp-drop-at-1500']!.verdict).toBe('supported');
    expect(onKvm['udp-none-beats-native']!.verdict).toBe('refuted');
    for (const c of CLAIMS.claims) {
      const r = onTcg[c.id]!;
      if (r.evidence.includes('ran under TCG')) {
        expect(r.verdict, c.id).not.toBe('supported');
        expect(r.qualifier, c.id).toMatch(/not judged: TCG/);
        expect(r.conditions, c.id).toMatch(/on TCG \(software emulation\)/);
        // Refuted only by a part that was judged.
        if (r.verdict === 'refuted')
          expect(
            r.parts.some((p) => !p.tcg && p.outcome === 'fails'),
            c.id,
          ).toBe(true);
      } else {
        // ... and claims on native and docker alone are judged as before.
        expect(r, c.id).toEqual(onKvm[c.id]);
      }
    }
    // Under KVM: supported; under TCG the guest's parts decide nothing, and nothing else stands against it.
    expect(verdictLabel(onTcg['tcp-kvm-fall-3000-4000']!)).toBe('inconclusive (kvm not judged: TCG)');
    expect(onTcg['tcp-kvm-fall-3000-4000']!.onlyTcg).toBe(true);
    expect(verdictLabel(onTcg['udp-drop-at-1500']!)).toBe(
      'inconclusive (holds for native and docker; kvm and osv not judged: TCG)',
    );
    // native - docker fails: the claim about every virtual environment is refuted whatever kvm and osv do
    // (native, in every pair, is said through its partners).
    expect(verdictLabel(onTcg['udp-none-beats-native']!)).toBe(
      'refuted (fails for docker; kvm and osv not judged: TCG)',
    );
    expect(onTcg['udp-none-beats-native']!.evidence).toMatch(
      /^kvm and osv ran under TCG .*native - docker .*\(fails, Holm-adjusted p [^)]+\)\. native - kvm .*\(TCG: not judged; on its own it [^)]+\)/,
    );
    expect(onTcg['tcp-300-native-above-docker-about-4']!.qualifier).toBeNull();
    // The preamble never says an OSv-only claim is about KVM.
    expect(onTcg['tcp-300-osv-above-native-about-4']!.evidence).toMatch(
      /^osv ran under TCG \(QEMU's software emulation\), not on KVM as in the paper: its parts are shown but not judged\./,
    );
  });

  it('legends and tables name a TCG guest "Linux on QEMU (TCG)" / "OSv on QEMU (TCG)"', () => {
    expect(environmentTitle('kvm', 'tcg')).toBe('Linux on QEMU (TCG)');
    expect(environmentTitle('osv', 'tcg')).toBe('OSv on QEMU (TCG)');
    expect(environmentTitle('kvm', 'kvm')).toBe('Linux on QEMU/KVM');
    const tcg = kvmData('tcg');
    const charts = runCharts(tcg.manifest, analyseRun(tcg.manifest, tcg.records, CLAIMS));
    const specs = JSON.stringify(charts.map((c) => c.spec));
    expect(specs).toContain('Linux on QEMU (TCG)');
    expect(specs).toContain('OSv on QEMU (TCG)');
    expect(specs).not.toContain('QEMU/KVM');
    expect(softwareTable(tcg.manifest).rows.map((r) => r[0])).toContain('Linux on QEMU (TCG)');
  });
});

describe('conditions and scope', () => {
  const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 3, profile: 'flat' });

  it('every verdict states the testbed (rate and delay, or a real runner pair) and the accelerators', () => {
    const r = byId(judgeClaims(run, CLAIMS));
    expect(r['tcp-300-native-above-docker-about-4']!.conditions).toBe(
      'embedded testbed (100 Mbit/s shaped veth, no delay line); no loss emulated (a packet is lost only when a queue overflows); no guest (no accelerator)',
    );
    const tcg = byId(
      judgeClaims(syntheticRun({ plan, environments: ALL, replicates: 2, seed: 3, accelerator: 'tcg' }), CLAIMS),
    );
    expect(tcg['tcp-fig5-osv-best-average-ratio']!.conditions).toMatch(
      /osv on TCG \(software emulation\), kvm on TCG \(software emulation\)$/,
    );
    const link = run.manifest.link!;
    expect(testbedCondition({ manifest: { link: { ...link, oneWayDelayMicroseconds: 150 } } })).toBe(
      'embedded testbed (100 Mbit/s shaped veth, 150 us one-way delay)',
    );
    expect(
      testbedCondition({
        manifest: { link: { ...link, kind: 'external', serverAddress: '198.18.7.1', shaping: 'none' } },
      }),
    ).toBe('a real runner pair (server 198.18.7.1; none)');
  });

  it('the report opens with what the run can and cannot test', () => {
    const results = judgeClaims(run, CLAIMS);
    const scope = claimsScope(run, CLAIMS, results);
    expect(scope.conditions).toBe(
      'embedded testbed (100 Mbit/s shaped veth, no delay line); native: no hypervisor, docker: no hypervisor',
    );
    expect(scope.cannotTest.join('\n')).toMatch(/claims involving kvm: not measured/);
    expect(scope.cannotTest.join('\n')).toMatch(
      /The window-limited TCP regime.*native TCP at -s 100: 94\.\d of its 94\.\d x 10\^6 bits\/s plateau \(100%\)/,
    );
    const n = results.filter((r) => r.missing.length === 0).length;
    expect(scope.canTest[0]).toBe(
      `${n} of ${results.length} claims in full: their environments were measured (native, docker measured).`,
    );
    expect(scope.canTest[1]).toMatch(
      /^\d+ more in part: the parts on environments measured are judged, and one shown to fail refutes a claim about every part \(.*udp-drop-at-1500/,
    );
    const limited = syntheticRun({
      plan,
      environments: ['native'],
      replicates: 3,
      seed: 3,
      mean: (_e, p) => (p.test === 'TCP_STREAM' ? 94 * Math.min(1, 0.5 + p.value / 12000) : 90),
    });
    expect(claimsScope(limited, CLAIMS, judgeClaims(limited, CLAIMS)).canTest.join('\n')).toMatch(
      /The window-limited TCP regime: native TCP at -s 100: 47\.\d of its 94\.0 x 10\^6 bits\/s plateau \(51%\)/,
    );
  });

  it('a variant is measured and listed, but no claim involves it: only the paper environments count for TCG', () => {
    const run = syntheticRun({ plan, environments: ['native', 'docker', 'kvm-e1000'], replicates: 2, seed: 5 });
    run.manifest.environmentDescriptions['kvm-e1000'] = {
      name: 'kvm-e1000',
      summary: 'guest',
      details: {},
      accelerator: 'tcg',
      startupSeconds: 1,
      variant: { base: 'kvm', options: { nic: 'e1000', vhost: 'off' } },
    };
    const results = judgeClaims(run, CLAIMS);
    const scope = claimsScope(run, CLAIMS, results);
    expect(scope.canTest[0]).toMatch(
      /claims in full: their environments were measured \(native, docker, kvm-e1000 measured\)\.$/,
    );
    expect(scope.cannotTest.join('\n')).not.toMatch(/kvm-e1000/);
    expect(results.flatMap((r) => r.missing)).not.toContain('kvm-e1000');
  });
});
