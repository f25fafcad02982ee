// The marks a reader relies on, checked in the Vega-Lite spec and in the rendered SVG: the link's
// capacity line, each replicate as a faint dot, intervals cut at the axis with a triangle, the
// effective-socket-size variant of Fig. 4, and Fig. 7's intervals.

import { describe, expect, it } from 'vitest';
import type { PointSummary } from '../analyse/aggregate.ts';
import { udpDelivery } from '../analyse/analysis.ts';
import { summarize } from '../core/stats.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import {
  okRateFigure,
  tcpAbsoluteFigure,
  tcpEffectiveSizeFigure,
  udpAbsoluteFigure,
  type FigureContext,
} from './charts/figures.ts';
import { renderSvg } from './render.ts';
import { chartNotes } from './charts/lines.ts';
import { reportTextFiles, runCharts } from './report.ts';
import { analyseRun } from '../analyse/run.ts';
import { environmentScales } from './charts/style.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const ctx: FigureContext = {
  subtitle: ['test run'],
  environments: ['native', 'docker'],
  accelerators: {},
  linkRateMbit: 100,
};

function point(environment: string, value: number, samples: number[], extra: Partial<PointSummary> = {}): PointSummary {
  return {
    environment,
    test: 'TCP_STREAM',
    series: 's',
    parameter: 'sendSocketSize',
    value,
    pointId: `TCP_STREAM:sendSocketSize=${value}`,
    throughput: summarize(samples),
    samples,
    replicates: samples.map((_, i) => i + 1),
    failed: 0,
    flagged: 0,
    effectiveSendSocket: Math.max(2 * value, 4608),
    requestedSendSocket: value,
    okRate: null,
    okRates: [],
    sendCalls: 0,
    recvCalls: 0,
    confidenceMissed: 0,
    confidenceAsked: false,
    ...extra,
  };
}

interface Layer {
  name?: string;
  mark: { type: string; shape?: string; opacity?: number };
  data?: { values: Record<string, unknown>[] };
  transform?: unknown[];
  encoding: Record<string, { field?: string } | null>;
}
const layers = (spec: object) => (spec as { layer: Layer[] }).layer;
const layer = (spec: object, name: string) => layers(spec).find((l) => l.name === name);
const rows = (spec: object) => (spec as { data: { values: Record<string, unknown>[] } }).data.values;
const notes = (spec: object) => chartNotes(spec);

/** The number of marks vega drew for the named layer (`<g class="mark-... role-mark NAME_marks">`), or null when it drew none of that layer. */
function marksIn(svg: string, name: string): number | null {
  const at = svg.indexOf(`role-mark ${name}_marks"`);
  if (at < 0) return null;
  const tagEnd = svg.indexOf('>', at);
  if (svg[tagEnd - 1] === '/') return 0;
  const group = svg.slice(tagEnd, svg.indexOf('</g>', tagEnd));
  return group.split('<path').length - 1;
}

describe('absolute throughput charts', () => {
  // native 100: an interval from about -54 to 186 Mbit/s (3 replicates, one disturbed); 4100: tight.
  const points = [
    point('native', 100, [10, 94, 94]),
    point('native', 4100, [93.9, 94, 94.1]),
    point('docker', 100, [92, 93, 94]),
    point('docker', 4100, [93, 93.5, 94]),
  ];

  it("draws the link's TCP goodput as a dashed capacity line, each replicate as a faint dot, and cuts the wide interval 5% of capacity beyond it and below the lowest replicate, with a triangle at each cut end", async () => {
    const spec = tcpAbsoluteFigure(points, null, '4e', ctx);
    const capacity = layer(spec, 'capacity')!;
    expect(capacity.mark.type).toBe('line');
    expect(capacity.data!.values).toEqual([
      { x: 100, capacity: 94.1482 },
      { x: 4100, capacity: 94.1482 },
    ]);
    const replicates = layer(spec, 'replicates')!;
    expect(replicates.transform).toEqual([{ flatten: ['samples'], as: ['sample'] }]);
    expect(replicates.mark.opacity).toBeLessThan(0.5);
    const wide = rows(spec).find((r) => r.environment === 'Native Linux' && r.x === 100)!;
    expect(wide).toMatchObject({
      barLow: 5.2926,
      barHigh: 98.8557,
      lowClipped: true,
      highClipped: true,
      samples: [10, 94, 94],
    });
    expect(wide.low as number).toBeLessThan(-50);
    expect(wide.high as number).toBeGreaterThan(180);
    expect(rows(spec).filter((r) => r.lowClipped || r.highClipped)).toHaveLength(1);
    expect(layer(spec, 'clipped_high')!.mark.shape).toBe('triangle-up');
    expect(layer(spec, 'clipped_low')!.mark.shape).toBe('triangle-down');
    // The error bar is drawn from the cut ends.
    expect(layers(spec).find((l) => l.mark.type === 'errorbar')!.encoding.y).toMatchObject({ field: 'barLow' });
    expect(notes(spec)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('TCP goodput (94.15 at 100 Mbit/s)'),
        expect.stringContaining('faint dots'),
        expect.stringContaining('\u25B2 above 98.86, \u25BC below 5.29'),
      ]),
    );

    const svg = await renderSvg(spec);
    expect(marksIn(svg, 'capacity')).toBe(1);
    expect(marksIn(svg, 'replicates')).toBe(12);
    expect(marksIn(svg, 'clipped_high')).toBe(1);
    expect(marksIn(svg, 'clipped_low')).toBe(1);
    expect(svg).toContain('\u25B2 above 98.86');
    expect(svg).toContain('grey dashed line');
  });

  it('says nothing of cuts and draws no triangle when every interval fits', async () => {
    const spec = tcpAbsoluteFigure(
      points.filter((p) => p.value === 4100),
      null,
      '4e',
      ctx,
    );
    expect(notes(spec).join('\n')).not.toContain('\u25B2');
    const svg = await renderSvg(spec);
    expect(marksIn(svg, 'clipped_high')).toBe(0);
    expect(marksIn(svg, 'clipped_low')).toBe(0);
  });

  it('draws no capacity line without a shaped link (an external server), and cuts only at 0', () => {
    const spec = tcpAbsoluteFigure(points, null, '4e', { ...ctx, linkRateMbit: null });
    expect(layer(spec, 'capacity')).toBeUndefined();
    expect(rows(spec).find((r) => r.x === 100 && r.environment === 'Native Linux')).toMatchObject({
      barLow: 0,
      lowClipped: true,
      highClipped: false,
    });
  });

  it("draws UDP's capacity per datagram size: payload goodput, fragments paying their own headers", async () => {
    const udp = (environment: string, value: number, samples: number[]) =>
      point(environment, value, samples, {
        test: 'UDP_STREAM',
        parameter: 'requestSize',
        pointId: `UDP_STREAM:requestSize=${value}`,
        effectiveSendSocket: null,
      });
    const spec = udpAbsoluteFigure([udp('native', 50, [40, 41, 42]), udp('native', 1950, [90, 91, 92])], ctx);
    expect(layer(spec, 'capacity')!.data!.values).toEqual([
      { x: 50, capacity: 43.1034 },
      { x: 1950, capacity: 94.0212 },
    ]);
    const svg = await renderSvg(spec);
    expect(marksIn(svg, 'capacity')).toBe(1);
    // The run swept -r (datagram size, as the paper ran it): the axis says so.
    expect(svg).toContain('UDP datagram size requested, -r (bytes)');
    expect(svg).not.toContain('-m (bytes)');
  });
});

describe('Fig. 4 over the effective send socket size', () => {
  it('puts every request the kernel raised to 4608 B at one x, says which, and draws no line through them', async () => {
    const requested = [100, 300, 500, 1100, 2300, 4100, 8100];
    const points = requested.flatMap((v) => [point('native', v, [93, 94, 95]), point('docker', v, [92, 93, 94])]);
    const spec = tcpEffectiveSizeFigure(points, '4 (effective size)', ctx);
    expect([...new Set(rows(spec).map((r) => r.x))]).toEqual([4608, 8200, 16200]);
    expect(
      rows(spec)
        .filter((r) => r.x === 4608)
        .map((r) => r.requested),
    ).toEqual([100, 100, 300, 300, 500, 500, 1100, 1100, 2300, 2300]);
    expect(notes(spec)).toContain('-s 100...2300 (5 sizes) all gave 4608 B: one condition');
    expect(layers(spec).some((l) => l.mark.type === 'line' && l.name !== 'capacity')).toBe(false);
    expect(layer(spec, 'capacity')).toBeDefined();
    const svg = await renderSvg(spec);
    expect(svg).toContain('Effective send socket size, LSS_SIZE_END (bytes)');
    expect(svg).toContain('-s 100...2300 (5 sizes) all gave 4608 B');
    expect(marksIn(svg, 'replicates')).toBe(42);
  });
});

describe('Fig. 7 with intervals', () => {
  it("draws the okay rate's 95% interval from the replicates' rates, each replicate as a dot, cut at 1", async () => {
    const udp = (environment: string, value: number, okRates: number[]) =>
      point(environment, value, [50, 50, 50], {
        test: 'UDP_STREAM',
        parameter: 'requestSize',
        okRates,
        sendCalls: 3000,
        recvCalls: Math.round(1000 * okRates.reduce((a, b) => a + b, 0)),
        effectiveSendSocket: null,
      });
    const delivery = udpDelivery([udp('native', 50, [0.9, 0.95, 1]), udp('docker', 50, [0.9, 0.9, 0.9])]);
    const spec = okRateFigure(delivery, ctx);
    const native = rows(spec).find((r) => r.environment === 'Native Linux')!;
    expect(native.low as number).toBeCloseTo(0.95 - summarize([0.9, 0.95, 1]).ciHalfWidth!, 4);
    expect(native).toMatchObject({ barHigh: 1, highClipped: true, lowClipped: false, n: 3, samples: [0.9, 0.95, 1] });
    expect(rows(spec).find((r) => r.environment === 'Docker')).toMatchObject({
      low: 0.9,
      high: 0.9,
      highClipped: false,
    });
    const svg = await renderSvg(spec);
    expect(marksIn(svg, 'replicates')).toBe(6);
    expect(marksIn(svg, 'clipped_high')).toBe(1);
    expect(svg).toContain('95% t interval from the replicates');
  });
});

describe('the report', () => {
  it("holds the effective-size variant of Fig. 4 and a precision table beside the plan's target", () => {
    const { plan } = loadPlan('quick', PLANS);
    const run = syntheticRun({ plan, environments: ['native', 'docker'], replicates: 3, seed: 1, runId: 'r1' });
    const manifest = {
      ...run.manifest,
      plan: { ...run.manifest.plan, precision: { halfWidthPercent: 1, maxReplicates: 5, budgetMinutes: null } },
    };
    const analysis = analyseRun(manifest, run.records, loadClaims('paper', PLANS));
    const charts = runCharts(manifest, analysis);
    expect(charts.map((c) => c.id)).toContain('fig4-tcp-absolute-effective-size');
    const table = analysis.tables.find((t) => t.id === 'precision-reached')!;
    expect(table.title).toContain("the plan's target: 1%");
    expect(table.rows.map((r) => r[0])).toEqual(['Native Linux', 'Docker']);
    expect(table.rows[0]![1]).toBe(`${analysis.precision[0]!.points} of ${analysis.precision[0]!.points}`);
    expect(table.rows[0]![2]).toBe(`${analysis.precision[0]!.medianHalfWidthPercent!.toFixed(2)}%`);
    const files = reportTextFiles(manifest, analysis, charts);
    expect(files.find((f) => f.path === 'tables.md')!.content).toContain('Precision reached');
    expect(JSON.parse(files.find((f) => f.path === 'analysis.json')!.content).precision).toHaveLength(2);
    expect(files.map((f) => f.path)).toContain('charts/fig4-tcp-absolute-effective-size.vl.json');
  });
});

describe('environments beyond the paper four (variants)', () => {
  it('the four come first in the paper order with their colours, then the others by name in the fallback colours', () => {
    const scales = environmentScales(['kvm-e1000', 'osv', 'docker-host', 'native'], { 'kvm-e1000': 'tcg' });
    expect(scales.domain).toEqual(['Native Linux', 'OSv on QEMU/KVM', 'docker-host', 'kvm-e1000 (TCG)']);
    expect(scales.color.range).toEqual(['#000000', '#009E73', '#E69F00', '#56B4E9']);
  });

  it('a run of variants alone is analysed and charted, relative to native where native ran', () => {
    const run = syntheticRun({
      plan: loadPlan('quick', PLANS).plan,
      environments: ['native', 'docker-host', 'kvm-e1000'],
      replicates: 2,
      seed: 9,
    });
    const analysis = analyseRun(run.manifest, run.records, loadClaims('paper', PLANS));
    expect([...new Set(analysis.relative.map((r) => r.environment))].sort()).toEqual([
      'docker-host',
      'kvm-e1000',
      'native',
    ]);
    const charts = runCharts(run.manifest, analysis);
    expect(charts.length).toBeGreaterThan(0);
    expect(JSON.stringify(charts.map((c) => c.spec))).toContain('docker-host');
  });
});
