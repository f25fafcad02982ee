import { describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { summarizePoints } from '../analyse/aggregate.ts';
import { HEADLINE_METRICS, headlineMetrics, type Headline } from '../analyse/headline.ts';
import { analyseRun } from '../analyse/run.ts';
import { diffRuns } from '../diff/diff.ts';
import { syntheticMean, syntheticRun } from '../testing/synthetic.ts';
import {
  comparable,
  diffMarks,
  historyPage,
  historyRun,
  historySvg,
  HISTORY_SIZE,
  metricHistory,
  dateTicks,
  orderEnvironments,
  overviewHtml,
  pairsPage,
  testbedOf,
  ticks,
  type HistoryRun,
} from './history.ts';
import { previousRunPairs } from './diff-pages.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const { plan } = loadPlan('quick', PLANS);
const CLAIMS = loadClaims('paper', PLANS);

const value = (v: number, half: number | null = 1) => ({
  value: v,
  low: half === null ? null : v - half,
  high: half === null ? null : v + half,
  points: 3,
});
const hrun = (runId: string, createdAt: string, headline: Headline, extra: Partial<HistoryRun> = {}): HistoryRun => ({
  runId,
  createdAt,
  plan: 'paper',
  pair: null,
  testbed: 'embedded testbed, 100 Mbit/s, no added delay',
  headline,
  ...extra,
});

describe('history data', () => {
  it('names the testbed: a runner pair, or the embedded link with its rate and delay', () => {
    const link = syntheticRun({ plan, environments: ['native'] }).manifest.link!;
    expect(testbedOf({ runnerPair: null, link })).toBe('embedded testbed, 100 Mbit/s, no added delay');
    expect(testbedOf({ runnerPair: null, link: { ...link, oneWayDelayMicroseconds: 5000 } })).toBe(
      'embedded testbed, 100 Mbit/s, 5000 us one-way delay',
    );
    expect(testbedOf({ runnerPair: 'modern', link })).toBe('runner pair modern');
    expect(testbedOf({ runnerPair: null, link: null })).toBe('testbed not recorded');
  });

  it('draws runs at their dates: the axis is labelled with dates, and a gap of days shows as a gap', () => {
    const runs = [
      hrun('a', '2026-01-01T00:00:00.000Z', [{ environment: 'native', metrics: { 'tcp-mean': value(94) } }]),
      hrun('b', '2026-01-02T00:00:00.000Z', [{ environment: 'native', metrics: { 'tcp-mean': value(93) } }]),
      hrun('c', '2026-01-11T00:00:00.000Z', [{ environment: 'native', metrics: { 'tcp-mean': value(92) } }]),
    ];
    const svg = historySvg(metricHistory(runs, [], 'tcp-mean'), HISTORY_SIZE, '../').toString();
    expect(svg).toContain('>2026-01-01</text>');
    expect(svg).toContain('>2026-01-11</text>');
    const xs = [...svg.matchAll(/<circle class="point" data-run="(\w)" cx="([\d.]+)"/g)].map((m) => Number(m[2]));
    expect(xs).toHaveLength(3);
    // a and b are one day apart, b and c nine: c is nine times as far from b as b from a.
    expect((xs[2]! - xs[1]!) / (xs[1]! - xs[0]!)).toBeCloseTo(9, 5);
    expect(
      dateTicks(Date.parse('2026-01-01T10:00:00Z'), Date.parse('2026-01-01T16:00:00Z'), 2).map((t) => t.label),
    ).toEqual(['01-01 10:00', '01-01 16:00']);
  });

  it('orders environments as the paper does, then any other (a variant) by name', () => {
    expect(orderEnvironments(['kvm-e1000', 'osv', 'docker-host', 'native', 'docker'])).toEqual([
      'native',
      'docker',
      'osv',
      'docker-host',
      'kvm-e1000',
    ]);
  });

  it('a series per environment, plan and testbed, in time order whatever the input order; positions over all runs', () => {
    const runs = [
      hrun('c', '2026-01-03', [{ environment: 'native', metrics: { 'tcp-mean': value(90) } }]),
      hrun('a', '2026-01-01', [
        { environment: 'native', metrics: { 'tcp-mean': value(94) } },
        { environment: 'docker-host', metrics: { 'tcp-mean': value(93) } },
      ]),
      hrun('b', '2026-01-02', [{ environment: 'native', metrics: { 'tcp-mean': value(940) } }], {
        pair: 'big',
        testbed: 'runner pair big',
      }),
    ];
    const h = metricHistory(runs, [], 'tcp-mean');
    expect(h.runs).toBe(3);
    expect(h.series.map((s) => [s.environment, s.testbed, s.points.map((p) => `${p.runId}@${p.index}`)])).toEqual([
      ['native', 'embedded testbed, 100 Mbit/s, no added delay', ['a@0', 'c@2']],
      ['native', 'runner pair big', ['b@1']],
      ['docker-host', 'embedded testbed, 100 Mbit/s, no added delay', ['a@0']],
    ]);
    expect(metricHistory(runs, [], 'rtt').series).toEqual([]);
  });

  it("marks a run where the diff with its previous comparable run found a significant change, in the metric's range only", () => {
    const base = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 1, runId: 'base' });
    // Docker's UDP throughput 30% lower at <= 1400 B; TCP unchanged.
    const worse = syntheticRun({
      plan,
      environments: ['native', 'docker'],
      replicates: 3,
      seed: 2,
      runId: 'worse',
      createdAt: '2026-01-02T00:00:00.000Z',
      mean: (e, p) =>
        syntheticMean(e, p, 'paper') * (e === 'docker' && p.test === 'UDP_STREAM' && p.value <= 1400 ? 0.7 : 1),
    });
    const verdicts = (r: typeof base) => analyseRun(r.manifest, r.records, CLAIMS).claims;
    const diff = diffRuns(
      { label: 'base', manifest: base.manifest, records: base.records, verdicts: verdicts(base) },
      { label: 'worse', manifest: worse.manifest, records: worse.records, verdicts: verdicts(worse) },
    );
    const marks = diffMarks(diff, 'diffs/base--worse/index.html');
    expect(
      marks.map((m) => `${m.environment} ${m.metric} ${m.regressed ? 'regressed' : ''}${m.improved ? 'improved' : ''}`),
    ).toEqual(['docker udp-small regressed', 'docker udp-ok regressed']);
    expect(marks[0]).toMatchObject({ runId: 'worse', against: 'base', diffPath: 'diffs/base--worse/index.html' });
    // The same run with itself: nothing to mark.
    expect(
      diffMarks(
        diffRuns(
          { label: 'a', manifest: base.manifest, records: base.records },
          { label: 'b', manifest: base.manifest, records: base.records },
        ),
        'x',
      ),
    ).toEqual([]);
    const runs = [base, worse].map((r) => historyRun(r.manifest, headlineMetrics(summarizePoints(r.records))));
    expect(comparable(runs[0]!, runs[1]!)).toBe(true);
    const svg = historySvg(metricHistory(runs, marks, 'udp-small'), HISTORY_SIZE, '../').toString();
    expect(svg.match(/class="mark mark-regressed"/g)).toHaveLength(1);
    expect(svg).toContain('data-run="worse" points=');
    expect(historySvg(metricHistory(runs, marks, 'tcp-mean'), HISTORY_SIZE, '../').toString()).not.toContain(
      'class="mark',
    );
  });

  it('marks the CPU metrics where the CPU cost per gigabyte changed, though throughput did not', () => {
    // Docker's TCP server CPU per gigabyte 40% higher in the later run; its throughput the same.
    const cpu = (more: number) => (e: string, p: { test: string }) =>
      (e === 'docker' ? 3 : 1.5) * (e === 'docker' && p.test === 'TCP_STREAM' ? more : 1);
    const base = syntheticRun({
      plan,
      environments: ['native', 'docker'],
      replicates: 3,
      seed: 1,
      cpuPerGigabyte: cpu(1),
    });
    const dearer = syntheticRun({
      plan,
      environments: ['native', 'docker'],
      replicates: 3,
      seed: 1,
      runId: 'dearer',
      createdAt: '2026-01-02T00:00:00.000Z',
      cpuPerGigabyte: cpu(1.4),
    });
    const diff = diffRuns(
      { label: 'base', manifest: base.manifest, records: base.records },
      { label: 'dearer', manifest: dearer.manifest, records: dearer.records },
    );
    expect(
      diffMarks(diff, 'd').map((m) => `${m.environment} ${m.metric} ${m.regressed ? 'regressed' : 'improved'}`),
    ).toEqual(['docker tcp-cpu regressed']);
    const headline = headlineMetrics(summarizePoints(dearer.records));
    const docker = headline.find((h) => h.environment === 'docker')!.metrics;
    expect(docker['tcp-cpu']!.value).toBeCloseTo(4.2, 1);
    expect(docker['udp-cpu']!.value).toBeCloseTo(3, 1);
    expect(docker['tcp-cpu']!.low!).toBeLessThan(docker['tcp-cpu']!.value);
    // A run from before CPU was sampled has no CPU metric at all.
    expect(
      headlineMetrics(summarizePoints(syntheticRun({ plan, environments: ['docker'] }).records))[0]!.metrics,
    ).not.toHaveProperty('tcp-cpu');
  });

  it('a run is diffed with the previous run of its plan on its testbed before any other run of its plan', () => {
    const pairs = previousRunPairs([
      { runId: 'e1', createdAt: '2026-01-01', plan: 'paper', testbed: 'embedded' },
      { runId: 'p1', createdAt: '2026-01-02', plan: 'paper', testbed: 'pair big' },
      { runId: 'e2', createdAt: '2026-01-03', plan: 'paper', testbed: 'embedded' },
      { runId: 'p2', createdAt: '2026-01-04', plan: 'paper', testbed: 'pair big' },
    ]);
    expect(pairs.map((p) => `${p.a}->${p.b}`)).toEqual(['e1->p1', 'e1->e2', 'p1->p2']);
  });
});

describe('history pages', () => {
  const runs = [
    hrun('r1', '2026-01-01', [
      { environment: 'native', metrics: { 'tcp-mean': value(94), 'udp-ok': value(0.98, null) } },
    ]),
    hrun(
      'r2',
      '2026-01-02',
      [
        { environment: 'native', metrics: { 'tcp-mean': value(93) } },
        { environment: '<b>evil</b>', metrics: { 'tcp-mean': value(50) } },
      ],
      { plan: '<script>alert(1)</script>' },
    ),
  ];

  it('points link to their runs, bands only where an interval exists, outside names escaped, the same bytes every time', () => {
    const page = historyPage({ runs, marks: [] }, 'tcp-mean');
    const body = page.body.toString();
    expect(page.path).toBe('history/tcp-mean.html');
    expect(body).toContain('<a class="point-link" href="../runs/r1/index.html">');
    expect(body).toContain('<a class="point-link" href="../runs/r2/index.html">');
    expect(body).not.toContain('<b>evil</b>');
    expect(body).not.toContain('<script>alert');
    expect(body).toContain('data-plan="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(historyPage({ runs: [...runs].reverse(), marks: [] }, 'tcp-mean').body.toString()).toBe(body);
    const ok = historyPage({ runs, marks: [] }, 'udp-ok').body.toString();
    expect(ok).not.toContain('class="band');
  });

  it('the overview: one small chart per metric, each linking to its history page', () => {
    const html = overviewHtml({ runs, marks: [] }).toString();
    expect(html.match(/<figure class="overview-chart"/g)).toHaveLength(HEADLINE_METRICS.length);
    expect(html).toContain('href="history/relative.html"');
    expect(html).toContain('<select name="pair" data-filter="pair">');
    expect(html).not.toContain('class="point-link"');
  });

  it('ticks are round and cover the range', () => {
    expect(ticks(0, 100)).toEqual([0, 50, 100]);
    expect(ticks(80, 100)).toEqual([80, 85, 90, 95, 100]);
    expect(ticks(0.91, 0.99)).toEqual([0.92, 0.94, 0.96, 0.98]);
  });

  it('the pair page: per plan, the latest run of each pair with its verdicts side by side', () => {
    const claim = (id: string, verdict: 'supported' | 'refuted') => ({ id, text: `claim ${id}`, verdict }) as never;
    const page = pairsPage([
      {
        runId: 'old-big',
        createdAt: '2026-01-01',
        plan: 'paper',
        pair: 'big',
        testbed: 'runner pair big',
        claims: [claim('c1', 'refuted')],
      },
      {
        runId: 'new-big',
        createdAt: '2026-01-05',
        plan: 'paper',
        pair: 'big',
        testbed: 'runner pair big',
        claims: [claim('c1', 'supported')],
      },
      {
        runId: 'small',
        createdAt: '2026-01-03',
        plan: 'paper',
        pair: 'small',
        testbed: 'runner pair small',
        claims: [claim('c1', 'refuted')],
      },
    ]).body.toString();
    expect(page).toContain('runs/new-big/index.html');
    expect(page).not.toContain('runs/old-big/index.html');
    expect(page).toContain('runs/small/index.html');
    expect(page.match(/class="verdict verdict-supported"/g)).toHaveLength(1);
    expect(page.match(/class="verdict verdict-refuted"/g)).toHaveLength(1);
  });
});
