import { describe, expect, it } from 'vitest';
import type { NetperfMetrics } from '../measure/netperf.ts';
import type { MeasurementRecord } from '../measure/records.ts';
import { claimsSummary, compactTable, failedPoints, mdCell, sweepSummary } from './job-summary.ts';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import { testManifest } from '../testing/diff-fixtures.ts';

function metrics(mbps: number): NetperfMetrics {
  return {
    protocol: 'TCP',
    throughputMbps: mbps,
    sendThroughputMbps: mbps,
    elapsedSeconds: 1,
    messageSize: 131072,
    sendCalls: 10,
    recvCalls: 10,
    bytesSent: 1,
    bytesReceived: 1,
    sendSocketRequested: 4100,
    sendSocketInitial: 8200,
    sendSocketFinal: 8200,
    localRecvSocketRequested: -1,
    localRecvSocketFinal: 1,
    remoteSendSocketFinal: 1,
    remoteRecvSocketRequested: -1,
    remoteRecvSocketInitial: 1,
    remoteRecvSocketFinal: 1,
    transportMss: 1448,
    confidence: null,
  };
}

function record(
  environment: string,
  value: number,
  replicate: number,
  mbps: number | null,
  error: string | null = null,
): MeasurementRecord {
  return {
    formatVersion: 1,
    environment,
    pointId: `TCP_STREAM-s-${value}`,
    test: 'TCP_STREAM',
    series: 'from-100',
    parameter: 'sendSocketSize',
    value,
    replicate,
    status: mbps === null ? 'failed' : 'ok',
    attempts: 1,
    startedAt: '',
    finishedAt: '',
    command: [],
    stdout: '',
    stderr: '',
    error,
    metrics: mbps === null ? null : metrics(mbps),
  };
}

describe('job summary markdown', () => {
  it('escapes cells so values cannot break the table or inject markup', () => {
    expect(mdCell('a|b\n<img src=x onerror=alert(1)>&')).toBe('a\\|b &lt;img src=x onerror=alert(1)&gt;&amp;');
  });

  it('compact table: a row per point in numeric order, a column per environment, mean ± CI half-width', () => {
    const records = [
      record('native', 4100, 1, 94),
      record('native', 4100, 2, 93),
      record('native', 100, 1, 90),
      record('docker', 4100, 1, 92),
      record('docker', 100, 1, null, 'netserver gone'),
    ];
    const table = compactTable(records);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| point | native | docker |');
    expect(lines[2]).toBe('| TCP_STREAM -s 100 | 90.00 | — (1 failed) |');
    expect(lines[3]).toMatch(/^\| TCP_STREAM -s 4100 \| 93\.50 ±6\.35 \| 92\.00 \|$/);
  });

  it('compact table is bounded in rows', () => {
    const many = Array.from({ length: 80 }, (_, i) => record('native', 100 + i * 100, 1, 90));
    const table = compactTable(many, 10);
    expect(table).toMatch(/\| … 70 more points \|/);
    expect(table.split('\n').filter((l) => l.startsWith('| TCP_STREAM'))).toHaveLength(10);
  });

  it("a sweep summary shows the precision reached per environment beside the plan's target", () => {
    const manifest = testManifest();
    const records = [
      record('native', 100, 1, 90),
      record('native', 100, 2, 92),
      record('native', 100, 3, 94),
      record('native', 4100, 1, 93),
    ];
    const md = sweepSummary({
      manifest: {
        ...manifest,
        plan: { ...manifest.plan, precision: { halfWidthPercent: 1, maxReplicates: 6, budgetMinutes: null } },
      },
      records,
      counts: { status: 'complete', measured: 4, failed: 0, missing: 0, planned: 4 },
      environment: 'native',
      artifact: 'a',
    });
    expect(md).toContain(
      "### Precision reached: 95% CI half-width in percent of the mean, over each environment's points (the plan's target: 1%)",
    );
    // 90, 92, 94: t(0.975, 2) x 2 / sqrt(3) = 4.97 Mbit/s, 5.40% of 92.
    expect(md).toContain('| Native Linux | 1 of 2 | 5.40% | 5.40% | TCP_STREAM-s-100 |');
  });

  it('failed points list the error; none gives nothing', () => {
    expect(failedPoints([record('native', 100, 1, 90)])).toBe('');
    expect(
      failedPoints([record('kvm', 100, 1, null, 'establish control: are you sure there is a netserver listening')]),
    ).toContain('| kvm | TCP_STREAM -s 100 | 1 | establish control: are you sure there is a netserver listening |');
  });

  it('a sweep summary keeps hostile names, statuses and errors as text in their cells and lines', () => {
    const EVIL = '<img src=x onerror=alert(8)>';
    const manifest = testManifest({
      runId: 'r`x',
      environmentErrors: { [`kvm${EVIL}`]: 'boot failed | see\n## forged heading' },
    });
    const records = [record(`native|${EVIL}`, 100, 1, null, `netperf: ${EVIL} | x`)];
    const md = sweepSummary({
      manifest,
      records,
      counts: { status: 'complete | bogus' as never, measured: 0, failed: 1, missing: 0, planned: 1 },
      environment: `native${EVIL}`,
      artifact: '[a](javascript:alert(1))',
    });
    expect(md).not.toMatch(/<img|(?<!\\)\]\(javascript|^## forged/m);
    expect(md).toContain('Run directory artifact: \\[a\\](javascript:alert(1))');
    expect(md).toContain('## virtnet sweep: native&lt;img src=x onerror=alert(8)&gt; (complete \\| bogus)');
    expect(md).toContain('Run ``r`x``');
    expect(md).toContain(
      '| native\\|&lt;img src=x onerror=alert(8)&gt; | TCP_STREAM -s 100 | 1 | netperf: &lt;img src=x onerror=alert(8)&gt; \\| x |',
    );
    for (const table of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const counts = table
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(counts).size, table).toBe(1);
    }
  });
});

describe('claims in the job summary', () => {
  const claim = (id: string, verdict: ClaimResult['verdict'], extra: Partial<ClaimResult> = {}): ClaimResult => ({
    id,
    text: `claim ${id} | with a pipe`,
    section: 'III',
    kind: 'difference' as ClaimResult['kind'],
    quantifier: 'every',
    verdict,
    qualifier: null,
    onlyTcg: false,
    finding: `finding of ${id}`,
    evidence: 'e',
    judged: '',
    conditions: '',
    limits: [],
    missing: [],
    note: null,
    contradicts: [],
    otherReading: null,
    parts: [],
    ...extra,
  });
  const claims = [
    claim('r', 'refuted'),
    claim('t', 'inconclusive', { qualifier: 'kvm not judged: TCG', onlyTcg: true }),
    claim('m', 'inconclusive', { missing: ['osv'] }),
  ];

  it('opens with the counts and their marks, lists the judged claims with their finding, collapses the others', () => {
    const md = claimsSummary(claims);
    expect(
      md.startsWith(
        '**✅ 0 supported · ❌ 1 refuted · ⚪ 2 inconclusive** of 3 claims (1 inconclusive only because a guest ran under TCG).',
      ),
    ).toBe(true);
    expect(md).toContain('| ❌ refuted | claim r \\| with a pipe | finding of r |');
    const details = md.slice(md.indexOf('<details><summary>2 claims this run could not judge</summary>'));
    expect(details).toContain('claim t');
    expect(details).toContain('not measured: osv');
    expect(md.indexOf('claim t')).toBeGreaterThan(md.indexOf('<details>'));
    expect(md).not.toContain('](');
  });

  it("links the run's page and shows the key figure when the site is published", () => {
    const md = claimsSummary(claims, {
      runPageUrl: 'https://example.org/runs/x/index.html',
      figureUrl: 'https://example.org/runs/x/charts/fig4a.svg',
    });
    expect(md).toContain('](https://example.org/runs/x/index.html)');
    expect(md).toContain(
      '![Fig. 4a: TCP_STREAM throughput vs send socket size](https://example.org/runs/x/charts/fig4a.svg)',
    );
  });
});
