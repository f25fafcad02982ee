import { describe, expect, it } from 'vitest';
import {
  changePercent,
  type ClaimVerdict,
  DEFAULT_DIFF_OPTIONS,
  diffRuns,
  DiffOptionsError,
  type DiffInput,
  hasRegression,
  holmAdjust,
  manifestDifferences,
  trapezoid,
} from './diff.ts';
import { pointRecords, scaleThroughput, testHost, testManifest, testPlan } from '../testing/diff-fixtures.ts';
import type { MeasurementRecord } from '../measure/records.ts';
import { welchTTest } from '../core/stats.ts';
import { formatDiff } from './format.ts';

/** A native run of two TCP and two UDP points, 3 replicates each, with a little noise. */
function baselineRecords(): MeasurementRecord[] {
  return [
    ...pointRecords('native', 'TCP_STREAM', 100, [93.9, 94.0, 94.1]),
    ...pointRecords('native', 'TCP_STREAM', 4100, [94.0, 94.1, 94.2]),
    ...pointRecords('native', 'TCP_STREAM', 8100, [94.1, 94.15, 94.05]),
    ...pointRecords('native', 'UDP_STREAM', 50, [43.0, 43.1, 43.2]),
    ...pointRecords('native', 'UDP_STREAM', 1050, [95.8, 95.9, 96.0]),
  ];
}

function side(
  label: string,
  records: MeasurementRecord[],
  manifest = testManifest(),
  verdicts?: ClaimVerdict[],
): DiffInput {
  return { label, manifest, records, verdicts };
}

describe('statistics helpers', () => {
  it("Holm's adjusted p-values on a known set", () => {
    // Sorted: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
    expect(adjusted[3]).toBeCloseTo(0.02, 12);
    expect(holmAdjust([0.5, 0.9])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
  it('relative change and the trapezoid area', () => {
    expect(changePercent(100, 80)).toBeCloseTo(-20, 12);
    expect(changePercent(0, 5)).toBeNull();
    expect(trapezoid([0, 1, 3], [0, -10, -10])).toBe(-25);
    expect(trapezoid([5], [1])).toBeNull();
  });
  it('refuses nonsense options', () => {
    expect(() => diffRuns(side('a', []), side('b', []), { ...DEFAULT_DIFF_OPTIONS, alpha: 1.5 })).toThrow(
      DiffOptionsError,
    );
    expect(() => diffRuns(side('a', []), side('b', []), { ...DEFAULT_DIFF_OPTIONS, thresholdPercent: -1 })).toThrow(
      /threshold: expected a number from 0 to 1000/,
    );
  });
});

describe('diffRuns on identical and scaled runs', () => {
  it('a run against itself: zero significant changes, p = 1 everywhere', () => {
    const records = baselineRecords();
    const d = diffRuns(side('a', records), side('b', records));
    expect(d.summary).toMatchObject({
      compared: 5,
      improved: 0,
      regressed: 0,
      unchanged: 5,
      undecided: 0,
      significant: 0,
      tested: 5,
      added: 0,
      removed: 0,
    });
    expect(d.points.every((p) => p.p === 1 && p.changePercent === 0)).toBe(true);
    expect(d.manifestDifferences).toEqual([]);
    expect(hasRegression(d)).toBe(false);
    expect(d.curves.map((c) => [c.environment, c.test, c.meanChangePercent, c.areaChangePercent])).toEqual([
      ['native', 'TCP_STREAM', 0, 0],
      ['native', 'UDP_STREAM', 0, 0],
    ]);
  });

  it('TCP scaled by 0.8: every TCP point a significant regression of -20 %, UDP unchanged', () => {
    const a = baselineRecords();
    const b = scaleThroughput(a, (r) => r.test === 'TCP_STREAM', 0.8);
    const d = diffRuns(side('a', a), side('b', b));
    const tcp = d.points.filter((p) => p.test === 'TCP_STREAM');
    expect(tcp).toHaveLength(3);
    for (const p of tcp) {
      expect(p.classification).toBe('regressed');
      expect(p.significance).toBe('significant');
      expect(p.changePercent!).toBeCloseTo(-20, 1);
      expect(p.pAdjusted!).toBeLessThan(0.05);
    }
    expect(d.points.filter((p) => p.test === 'UDP_STREAM').every((p) => p.classification === 'unchanged')).toBe(true);
    expect(d.summary.regressed).toBe(3);
    expect(hasRegression(d)).toBe(true);
    const curve = d.curves.find((c) => c.test === 'TCP_STREAM')!;
    expect(curve.meanChangePercent!).toBeCloseTo(-20, 1);
    expect(curve.areaChangePercent!).toBeCloseTo(-20, 1);
    expect(curve.regressed).toBe(3);
    expect(d.summary.largest[0]!.test).toBe('TCP_STREAM');
    // Scaled up instead: improvements, not regressions.
    const up = diffRuns(
      side('a', a),
      side(
        'b',
        scaleThroughput(a, (r) => r.test === 'TCP_STREAM', 1.25),
      ),
    );
    expect(up.summary).toMatchObject({ improved: 3, regressed: 0 });
  });
});

describe('classification: threshold AND significance', () => {
  const a = pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.1, 94.2]);
  const down3 = pointRecords('native', 'TCP_STREAM', 100, [91.2, 91.3, 91.4]);

  it('a significant 3 % drop is unchanged under a 5 % threshold and regressed under 2 %', () => {
    const at5 = diffRuns(side('a', a), side('b', down3));
    expect(at5.points[0]).toMatchObject({ significance: 'significant', classification: 'unchanged' });
    const at2 = diffRuns(side('a', a), side('b', down3), { ...DEFAULT_DIFF_OPTIONS, thresholdPercent: 2 });
    expect(at2.points[0]).toMatchObject({ significance: 'significant', classification: 'regressed' });
  });

  it('a large change inside the noise is not significant, so unchanged', () => {
    const noisy = pointRecords('native', 'TCP_STREAM', 100, [60, 94, 75]);
    const d = diffRuns(side('a', a), side('b', noisy), { ...DEFAULT_DIFF_OPTIONS, correction: 'none' });
    expect(d.points[0]!.changePercent!).toBeLessThan(-5);
    expect(d.points[0]).toMatchObject({ significance: 'not-significant', classification: 'unchanged' });
  });

  it("Holm's correction across points decides a borderline point that the uncorrected test flags", () => {
    // One point with Welch p = 0.0375 (t = 3.06, df = 4) among 8 points that did not move.
    const still = (v: number) => pointRecords('native', 'UDP_STREAM', v, [50, 51, 52]);
    const others = [50, 150, 250, 350, 450, 550, 650].flatMap(still);
    const ra = [...pointRecords('native', 'TCP_STREAM', 100, [10, 11, 12]), ...others];
    const rb = [...pointRecords('native', 'TCP_STREAM', 100, [12.5, 13.5, 14.5]), ...others];
    expect(welchTTest([10, 11, 12], [12.5, 13.5, 14.5]).p!).toBeCloseTo(0.0375, 3);
    const holm = diffRuns(side('a', ra), side('b', rb));
    const tcpHolm = holm.points.find((p) => p.test === 'TCP_STREAM')!;
    expect(tcpHolm.pAdjusted!).toBeCloseTo(8 * tcpHolm.p!, 10);
    expect(tcpHolm).toMatchObject({ significance: 'not-significant', classification: 'unchanged' });
    const none = diffRuns(side('a', ra), side('b', rb), { ...DEFAULT_DIFF_OPTIONS, correction: 'none' });
    expect(none.points.find((p) => p.test === 'TCP_STREAM')).toMatchObject({
      significance: 'significant',
      classification: 'improved',
    });
    expect(none.summary.tested).toBe(8);
  });
});

describe('too few replicates', () => {
  it('one replicate a side: undecided above the threshold, unchanged below it', () => {
    const a = [...pointRecords('native', 'TCP_STREAM', 100, [94]), ...pointRecords('native', 'TCP_STREAM', 4100, [94])];
    const b = [
      ...pointRecords('native', 'TCP_STREAM', 100, [75]),
      ...pointRecords('native', 'TCP_STREAM', 4100, [93.5]),
    ];
    const d = diffRuns(side('a', a), side('b', b));
    expect(d.points[0]).toMatchObject({
      value: 100,
      significance: 'too-few-replicates',
      classification: 'undecided',
      method: null,
      p: null,
    });
    expect(d.points[0]!.note).toMatch(/too few replicates \(1 and 1/);
    expect(d.points[1]).toMatchObject({ value: 4100, significance: 'too-few-replicates', classification: 'unchanged' });
    expect(d.summary).toMatchObject({ undecided: 1, unchanged: 1, tested: 0 });
    expect(hasRegression(d)).toBe(false);
  });

  it("falls back to netperf's own confidence intervals when the runs recorded them", () => {
    // Achieved width 2 % of the mean: 94 +- 0.94 vs 75 +- 0.75 (disjoint); 94 vs 93.5 (overlapping).
    const a = [
      ...pointRecords('native', 'TCP_STREAM', 100, [94], 2),
      ...pointRecords('native', 'TCP_STREAM', 4100, [94], 2),
    ];
    const b = [
      ...pointRecords('native', 'TCP_STREAM', 100, [75], 2),
      ...pointRecords('native', 'TCP_STREAM', 4100, [87], 2),
    ];
    const d = diffRuns(side('a', a), side('b', b));
    expect(d.points[0]).toMatchObject({
      method: 'netperf-confidence',
      significance: 'significant',
      classification: 'regressed',
    });
    expect(d.points[1]).toMatchObject({
      method: 'netperf-confidence',
      significance: 'significant',
      classification: 'regressed',
    });
    const close = diffRuns(side('a', a), side('b', [...pointRecords('native', 'TCP_STREAM', 100, [93.5], 2)]));
    expect(close.points[0]).toMatchObject({
      method: 'netperf-confidence',
      significance: 'not-significant',
      classification: 'unchanged',
    });
    // One replicate against three: the t interval of the three against netperf's interval of the one.
    const three = diffRuns(
      side('a', pointRecords('native', 'TCP_STREAM', 100, [94], 2)),
      side('b', pointRecords('native', 'TCP_STREAM', 100, [80, 80.2, 80.1])),
    );
    expect(three.points[0]).toMatchObject({ method: 'netperf-confidence', classification: 'regressed' });
  });

  it('a point whose replicates all failed in B is a regression; failed in both, undecided', () => {
    const a = [
      ...pointRecords('native', 'TCP_STREAM', 100, [94, 94.1, 94.2]),
      ...pointRecords('native', 'TCP_STREAM', 4100, [null, null]),
    ];
    const b = [
      ...pointRecords('native', 'TCP_STREAM', 100, [null, null, null]),
      ...pointRecords('native', 'TCP_STREAM', 4100, [null, null]),
    ];
    const d = diffRuns(side('a', a), side('b', b));
    expect(d.points[0]).toMatchObject({ significance: 'all-failed', classification: 'regressed' });
    expect(d.points[0]!.note).toMatch(/every replicate failed in B/);
    expect(d.points[1]).toMatchObject({ significance: 'all-failed', classification: 'undecided' });
    expect(hasRegression(d)).toBe(true);
  });
});

describe('mismatched runs', () => {
  it('points in one run only are added or removed; environments in one run only too', () => {
    const a = baselineRecords();
    const b = [
      ...baselineRecords().filter((r) => r.value !== 8100),
      ...pointRecords('native', 'TCP_STREAM', 12100, [94, 94.1, 94.2]),
      ...pointRecords('docker', 'TCP_STREAM', 100, [93, 93.1, 93.2]),
    ];
    const mb = testManifest({ environments: ['native', 'docker'], runId: 'b' });
    const d = diffRuns(side('a', a), side('b', b, mb));
    expect(d.removed.map((p) => `${p.environment} ${p.value}`)).toEqual(['native 8100']);
    expect(d.added.map((p) => `${p.environment} ${p.value}`)).toEqual(['docker 100', 'native 12100']);
    expect(d.summary).toMatchObject({ compared: 4, added: 2, removed: 1 });
    expect(d.manifestDifferences.find((m) => m.field === 'environments')).toEqual({
      category: 'environments',
      field: 'environments',
      a: '["native"]',
      b: '["native","docker"]',
    });
    const nativeTcp = d.curves.find((c) => c.environment === 'native' && c.test === 'TCP_STREAM')!;
    expect(nativeTcp).toMatchObject({ commonPoints: 2, onlyInA: 1, onlyInB: 1 });
    const dockerTcp = d.curves.find((c) => c.environment === 'docker')!;
    expect(dockerTcp).toMatchObject({ commonPoints: 0, onlyInB: 1, meanChangePercent: null, areaChangePercent: null });
  });

  it('lists plan, testbed, accelerator, version, kernel, hardware and sysctl differences; ignores per-run ids', () => {
    const a = testManifest();
    const b = testManifest({
      runId: 'other',
      createdAt: '2026-02-01T00:00:00.000Z',
      updatedAt: '2026-02-01T01:00:00.000Z',
      status: 'incomplete',
      git: { commit: '2222222222222222222222222222222222222222', dirty: true, branch: 'feature', subject: 'change' },
      plan: testPlan({ replicates: 5, sweeps: [{ ...testPlan().sweeps[0]!, step: 2000 }, testPlan().sweeps[1]!] }),
      link: { ...a.link!, rateMbit: 1000, shaping: 'tbf rate 1000mbit' },
      hosts: {
        client: testHost('client', {
          kernel: '6.12.0-test',
          cpuModel: 'Other CPU',
          sysctls: { 'net.core.wmem_max': '8388608', 'net.ipv4.tcp_congestion_control': 'cubic' },
        }),
        server: testHost('server', { netperfVersion: '2.7.1' }),
      },
      environmentDescriptions: {
        native: {
          name: 'native',
          summary: 'netserver 2.7.0 on the host',
          details: { netserver: '2.7.0', pid: '999' },
          accelerator: 'tcg',
          startupSeconds: 9,
        },
      },
      environmentErrors: { native: 'netserver did not answer' },
    });
    const fields = manifestDifferences(a, b).map((m) => `${m.category} ${m.field}`);
    expect(fields).toEqual([
      'run status',
      'plan plan.replicates',
      'plan plan.sweeps[TCP_STREAM/from-100]',
      'run environmentErrors.native',
      'testbed link.rateMbit',
      'testbed link.shaping',
      'accelerator environmentDescriptions.native.accelerator',
      'hardware hosts.client.cpuModel',
      'kernel hosts.client.kernel',
      'sysctls hosts.client.sysctls.net.core.wmem_max',
      'versions hosts.server.netperfVersion',
    ]);
    const rate = manifestDifferences(a, b).find((m) => m.field === 'link.rateMbit')!;
    expect([rate.a, rate.b]).toEqual(['100', '1000']);
    // An external link vs the namespace testbed, and a missing host record, are differences too.
    const external = manifestDifferences(
      a,
      testManifest({ link: null, hosts: { client: testHost('client'), server: null } }),
    ).map((m) => m.field);
    expect(external).toEqual(['link', 'hosts.server']);
  });

  it('leaves out what differs on every run: process ids, log paths, boot and build times, memory by a few MB', () => {
    const kvm = (details: Record<string, string>, memoryBytes: number) =>
      testManifest({
        hosts: { client: testHost('client', { memoryBytes }), server: testHost('server') },
        environmentDescriptions: {
          kvm: { name: 'kvm', summary: 'guest', details, accelerator: 'kvm', startupSeconds: 3 },
        },
      });
    const a = kvm(
      {
        qemuPid: '5869',
        consoleLog: 'runs/a/logs/kvm-console.log',
        bootSeconds: '2.86',
        guestBuild: 'cached (built in 9.1 s)',
        kernelVersion: '6.1.0',
      },
      25_276_026_880,
    );
    const b = kvm(
      {
        qemuPid: '6012',
        consoleLog: 'runs/b/logs/kvm-console.log',
        bootSeconds: '3.02',
        guestBuild: 'cached (built in 8.7 s)',
        kernelVersion: '6.1.0',
      },
      25_275_000_000,
    );
    expect(manifestDifferences(a, b)).toEqual([]);
    // A real change beside the noise still shows, and so does another machine's memory.
    const c = kvm(
      { qemuPid: '7000', consoleLog: 'x', bootSeconds: '1', guestBuild: 'y', kernelVersion: '6.12.0' },
      8 * 2 ** 30,
    );
    expect(manifestDifferences(a, c).map((m) => [m.field, m.a, m.b])).toEqual([
      ['environmentDescriptions.kvm.details.kernelVersion', '6.1.0', '6.12.0'],
      ['hosts.client.memory', '24 GiB', '8 GiB'],
    ]);
  });

  it('lists a changed link delay, and reads a run recorded before the delay line as having none', () => {
    const old = testManifest(); // no oneWayDelayMicroseconds: recorded before the delay line existed
    const none = testManifest({ link: { ...old.link!, oneWayDelayMicroseconds: 0 } });
    const delayed = testManifest({ link: { ...old.link!, oneWayDelayMicroseconds: 150 } });
    expect(manifestDifferences(old, none)).toEqual([]);
    const changed = manifestDifferences(none, delayed);
    expect(changed.map((m) => `${m.category} ${m.field}`)).toEqual(['testbed link.oneWayDelayMicroseconds']);
    expect([changed[0]!.a, changed[0]!.b]).toEqual(['0', '150']);
    expect(manifestDifferences(old, delayed).map((m) => m.field)).toEqual(['link.oneWayDelayMicroseconds']);
  });

  it('lists another runner pair and a changed variant option, and reads runs from before either as having none', () => {
    const old = testManifest();
    const desc = old.environmentDescriptions.native!;
    const withVariant = (options: Record<string, string>) =>
      testManifest({ environmentDescriptions: { native: { ...desc, variant: { base: 'docker', options } } } });
    expect(
      manifestDifferences(withVariant({ network: 'bridge' }), withVariant({ network: 'host' })).map((m) => [
        m.category,
        m.field,
        m.a,
        m.b,
      ]),
    ).toEqual([['environments', 'environmentDescriptions.native.variant.options.network', 'bridge', 'host']]);
    expect(manifestDifferences(old, withVariant({ network: 'host' })).map((m) => m.field)).toEqual([
      'environmentDescriptions.native.variant.base',
      'environmentDescriptions.native.variant.options.network',
    ]);
    expect(manifestDifferences(old, testManifest({ runnerPair: null }))).toEqual([]);
    expect(
      manifestDifferences(testManifest({ runnerPair: 'n3530' }), testManifest({ runnerPair: 'epyc' })).map((m) => [
        m.category,
        m.field,
        m.a,
        m.b,
      ]),
    ).toEqual([['hardware', 'runnerPair', 'n3530', 'epyc']]);
  });

  it('diffs runs whose plans differ: the diff lists the manifest differences before anything else', () => {
    const a = baselineRecords();
    const b = baselineRecords().filter((r) => r.test === 'TCP_STREAM');
    const d = diffRuns(
      side('a', a),
      side('b', b, testManifest({ plan: testPlan({ name: 'tcp-only', sweeps: [testPlan().sweeps[0]!] }) })),
    );
    expect(d.manifestDifferences.map((m) => m.field)).toEqual(['plan.name', 'plan.sweeps[UDP_STREAM/from-50]']);
    expect(d.manifestDifferences[1]!.b).toBeNull();
    expect(d.removed).toHaveLength(2);
    expect(d.summary.compared).toBe(3);
  });
});

describe('claims', () => {
  const verdictsA: ClaimVerdict[] = [
    { id: 'tcp-native-best', text: 'native TCP is the fastest', verdict: 'supported' },
    { id: 'udp-osv-okay', text: 'OSv loses UDP datagrams', verdict: 'inconclusive' },
    { id: 'gone', text: 'a claim dropped later', verdict: 'refuted' },
  ];
  const verdictsB: ClaimVerdict[] = [
    { id: 'tcp-native-best', text: 'native TCP is the fastest', verdict: 'refuted' },
    { id: 'udp-osv-okay', text: 'OSv loses UDP datagrams', verdict: 'inconclusive' },
    { id: 'new', text: 'a new claim', verdict: 'supported' },
  ];
  it('lists claims whose verdict changed, appeared or disappeared', () => {
    const d = diffRuns(side('a', [], testManifest(), verdictsA), side('b', [], testManifest(), verdictsB));
    expect(d.claimChanges).toEqual([
      { id: 'gone', text: 'a claim dropped later', a: 'refuted', b: null },
      { id: 'new', text: 'a new claim', a: null, b: 'supported' },
      { id: 'tcp-native-best', text: 'native TCP is the fastest', a: 'supported', b: 'refuted' },
    ]);
  });
  it('says claims were not compared when a side has no verdicts', () => {
    expect(diffRuns(side('a', [], testManifest(), verdictsA), side('b', [])).claimChanges).toBeNull();
  });
});

describe('curves', () => {
  it('signed area and mean change over unevenly spaced points', () => {
    const a = [0, 1, 3].flatMap((v) => pointRecords('native', 'UDP_STREAM', v + 50, [100, 100, 100]));
    const b = [
      ...pointRecords('native', 'UDP_STREAM', 50, [100, 100, 100]),
      ...pointRecords('native', 'UDP_STREAM', 51, [90, 90, 90]),
      ...pointRecords('native', 'UDP_STREAM', 53, [90, 90, 90]),
    ];
    const c = diffRuns(side('a', a), side('b', b)).curves[0]!;
    expect(c.signedArea).toBeCloseTo(-25, 10);
    expect(c.areaChangePercent).toBeCloseTo((-25 / 300) * 100, 10);
    expect(c.meanChangePercent).toBeCloseTo(-20 / 3, 10);
    expect([c.minChangePercent, c.maxChangePercent]).toEqual([-10, 0]);
    // Zero-variance replicates with different means are exact: significant (p = 0).
    expect(c.regressed).toBe(2);
  });
});

describe('the CPU cost per gigabyte', () => {
  /** The records with these server CPU-seconds per gigabyte, one per replicate. */
  function costed(records: MeasurementRecord[], perGigabyte: number[]): MeasurementRecord[] {
    return records.map((r, i) => ({
      ...r,
      cpu: {
        scope: { cgroups: ['docker/abc'], pids: [] },
        wallSeconds: 10,
        deliveredBytes: 1e9,
        serverSeconds: perGigabyte[i]!,
        serverSecondsPerGigabyte: perGigabyte[i]!,
        unreadable: null,
        clientSeconds: 1,
        clientSecondsPerGigabyte: 1,
        hostSoftirqSeconds: 0.1,
        hostIrqSeconds: 0,
        softirqInTaskTime: true,
      },
    }));
  }
  const same = [94.0, 94.1, 94.2];
  const runA = () => [
    ...costed(pointRecords('docker', 'TCP_STREAM', 100, same), [2.0, 2.02, 1.98]),
    ...costed(pointRecords('docker', 'TCP_STREAM', 4100, same), [2.0, 2.01, 1.99]),
    ...costed(pointRecords('docker', 'TCP_STREAM', 8100, same), [2.0, 2.05, 1.95]),
  ];

  it('marks more CPU per gigabyte as regressed and less as improved, apart from throughput', () => {
    const b = [
      // 30 % more CPU at the same throughput; 25 % less; 1 % more (below the threshold).
      ...costed(pointRecords('docker', 'TCP_STREAM', 100, same), [2.6, 2.62, 2.58]),
      ...costed(pointRecords('docker', 'TCP_STREAM', 4100, same), [1.5, 1.51, 1.49]),
      ...costed(pointRecords('docker', 'TCP_STREAM', 8100, same), [2.02, 2.07, 1.97]),
    ];
    const d = diffRuns(side('A', runA()), side('B', b));
    expect(d.points.map((p) => [p.value, p.classification, p.cpu?.classification])).toEqual([
      [100, 'unchanged', 'regressed'],
      [4100, 'unchanged', 'improved'],
      [8100, 'unchanged', 'unchanged'],
    ]);
    expect(d.points[0]!.cpu).toMatchObject({ a: { n: 3, mean: 2 }, b: { n: 3 }, significance: 'significant' });
    expect(d.points[0]!.cpu!.changePercent).toBeCloseTo(30, 6);
    // Its own Holm family: three tests, the smallest p multiplied by three.
    const p = welchTTest([2.0, 2.02, 1.98], [2.6, 2.62, 2.58]).p!;
    expect(d.points[0]!.cpu!.pAdjusted!).toBeGreaterThanOrEqual(p);
    expect(d.summary.cpu).toEqual({ compared: 3, tested: 3, improved: 1, regressed: 1, unchanged: 1, undecided: 0 });
    // The throughput gate is throughput's alone.
    expect(hasRegression(d)).toBe(false);
    const text = formatDiff(d, 'text');
    expect(text).toContain(
      'CPU cost per gigabyte: 3 points with a server CPU cost in both runs: 1 improved (less CPU per gigabyte), 1 regressed (more), 1 unchanged, 0 undecided',
    );
    expect(text).toMatch(
      /regressed {2}docker TCP_STREAM from-100 +-s 100 +2\.000 ± 0\.050 \(3\) +2\.600 ± 0\.050 \(3\) +\+30\.0%/,
    );
    expect(formatDiff(d, 'markdown')).toContain('### CPU cost per gigabyte');
  });

  it('says nothing of CPU when a run recorded none (runs from before it was sampled), and cannot test one replicate', () => {
    const old = pointRecords('docker', 'TCP_STREAM', 100, same);
    const d = diffRuns(side('A', old), side('B', runA().slice(0, 3)));
    expect(d.points[0]!.cpu).toBeUndefined();
    expect(d.summary.cpu).toBeUndefined();
    expect(formatDiff(d, 'text')).not.toContain('CPU cost');
    const one = diffRuns(
      side('A', costed(pointRecords('docker', 'TCP_STREAM', 100, [94]), [2])),
      side('B', costed(pointRecords('docker', 'TCP_STREAM', 100, [94]), [3])),
    );
    expect(one.points[0]!.cpu).toMatchObject({ significance: 'too-few-replicates', classification: 'undecided' });
  });
});
