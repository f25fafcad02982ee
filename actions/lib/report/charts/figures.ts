// One function per figure of the paper (and the two it lacks), each from analysed data to a
// Vega-Lite spec. Every subtitle carries the run context, and a TCG run says so on every chart.

import type { TopLevelSpec } from 'vega-lite';
import type { PointSummary } from '../../analyse/aggregate.ts';
import type { RangeAverage, RelativePoint, SignedArea, SocketSizeRow, UdpDelivery } from '../../analyse/analysis.ts';
import type { TestName } from '../../plan/plan.ts';
import type { Manifest } from '../../measure/records.ts';
import { barChart, lineChart, type LineRow } from './lines.ts';
import { environmentLabel, PARAMETER_AXIS_TITLE } from './style.ts';
import { own } from '../../core/own.ts';

export interface FigureContext {
  /** "run <id>, plan <name>", then the accelerator warning when a guest ran under TCG: one line each. */
  subtitle: string[];
  environments: readonly string[];
  /** Each environment's accelerator: a TCG guest is titled "... on QEMU (TCG)" in legends. */
  accelerators: Record<string, string>;
}

export const TCG_WARNING = 'TCG: QEMU guests ran under emulation (no hardware virtualization), not comparable to KVM';

export function usesTcg(manifest: Pick<Manifest, 'environmentDescriptions'>): boolean {
  return Object.values(manifest.environmentDescriptions ?? {}).some((d) => d.accelerator === 'tcg');
}

export function figureContext(manifest: Manifest, environments: readonly string[]): FigureContext {
  const base = `run ${manifest.runId}, plan ${manifest.plan.name}${manifest.link?.rateMbit ? `, ${manifest.link.rateMbit} Mbit/s link` : ''}${manifest.link?.oneWayDelayMicroseconds ? `, ${manifest.link.oneWayDelayMicroseconds / 1000} ms one-way delay` : ''}`;
  const accelerators = Object.fromEntries(Object.entries(manifest.environmentDescriptions ?? {}).map(([e, d]) => [e, d.accelerator]));
  return { subtitle: usesTcg(manifest) ? [base, TCG_WARNING] : [base], environments, accelerators };
}

const X_TITLE: Record<TestName, string> = {
  TCP_STREAM: PARAMETER_AXIS_TITLE.sendSocketSize,
  UDP_STREAM: PARAMETER_AXIS_TITLE.messageSize,
};
const THROUGHPUT = 'Throughput (10^6 bits/s)';
const RELATIVE = 'Throughput relative to native (ratio)';

function absoluteRows(points: readonly PointSummary[], test: TestName, series: readonly string[] | null, ctx: FigureContext): LineRow[] {
  return points
    .filter((p) => p.test === test && p.throughput.n > 0 && (!series || series.includes(p.series)))
    .map((p) => ({ environment: environmentLabel(p.environment, own(ctx.accelerators, p.environment)), x: p.value, y: p.throughput.mean, low: p.throughput.ciLow ?? p.throughput.mean, high: p.throughput.ciHigh ?? p.throughput.mean, n: p.throughput.n, flagged: p.flagged > 0 }));
}

function relativeRows(relative: readonly RelativePoint[], points: readonly PointSummary[], test: TestName, series: readonly string[] | null, ctx: FigureContext): LineRow[] {
  const n = new Map(points.map((p) => [`${p.environment}|${p.test}|${p.value}`, p.throughput.n]));
  return relative
    .filter((r) => r.test === test && (!series || series.includes(r.series)))
    .map((r) => ({ environment: environmentLabel(r.environment, own(ctx.accelerators, r.environment)), x: r.x, y: r.relative, low: r.low ?? r.relative, high: r.high ?? r.relative, n: n.get(`${r.environment}|${r.test}|${r.x}`) ?? null }));
}

const seriesLabel = (series: readonly string[] | null) => (series === null ? 'all series' : `series ${series.join(' + ')}`);

/** Fig. 4 a, c, e: absolute TCP throughput vs send socket size for one series, or all (null). */
export function tcpAbsoluteFigure(points: readonly PointSummary[], series: readonly string[] | null, figure: string, ctx: FigureContext): TopLevelSpec {
  return lineChart(absoluteRows(points, 'TCP_STREAM', series, ctx), { title: `Fig. ${figure}: TCP_STREAM throughput vs send socket size (${seriesLabel(series)})`, subtitle: ctx.subtitle, xTitle: X_TITLE.TCP_STREAM, yTitle: THROUGHPUT, environments: ctx.environments, accelerators: ctx.accelerators });
}

/** Fig. 4 b, d, f: TCP throughput relative to native. */
export function tcpRelativeFigure(relative: readonly RelativePoint[], points: readonly PointSummary[], series: readonly string[] | null, figure: string, ctx: FigureContext): TopLevelSpec {
  return lineChart(relativeRows(relative, points, 'TCP_STREAM', series, ctx), { title: `Fig. ${figure}: TCP_STREAM throughput relative to native (${seriesLabel(series)})`, subtitle: ctx.subtitle, xTitle: X_TITLE.TCP_STREAM, yTitle: RELATIVE, environments: ctx.environments, accelerators: ctx.accelerators, rule: 1, intervalTitle: '95% CI (delta method)' });
}

/** Fig. 5/7: average relative TCP throughput over the restricted socket range. */
export function restrictedAverageFigure(averages: readonly RangeAverage[], ctx: FigureContext): TopLevelSpec {
  const first = averages[0];
  const range = first ? `${first.from}-${first.to} B` : '0-6000 B';
  return barChart(
    averages.map((a) => ({ environment: environmentLabel(a.environment, own(ctx.accelerators, a.environment)), value: a.average, low: a.average - (a.halfWidth ?? 0), high: a.average + (a.halfWidth ?? 0), points: a.points })),
    { title: `Fig. 5/7: average relative TCP throughput, socket sizes ${range}`, subtitle: ctx.subtitle, yTitle: 'Average throughput relative to native (ratio)', environments: ctx.environments, accelerators: ctx.accelerators, rule: 1 },
  );
}

/** The Discussion's signed area between each curve and native's (no figure in the paper). */
export function signedAreaFigure(areas: readonly SignedArea[], ctx: FigureContext): TopLevelSpec {
  const first = areas[0];
  const range = first ? `${first.from}-${first.to} B` : '0-6000 B';
  return barChart(
    areas.map((a) => ({ environment: environmentLabel(a.environment, own(ctx.accelerators, a.environment)), value: a.area / 1000, low: a.area / 1000, high: a.area / 1000, points: a.points })),
    { title: `Signed area between each TCP curve and native's, ${range} (trapezoid rule)`, subtitle: ctx.subtitle, yTitle: 'Area (10^6 bits/s x kB; above native > 0)', environments: ctx.environments, accelerators: ctx.accelerators, rule: 0 },
  );
}

/** Fig. 6a: absolute UDP throughput vs message size. */
export function udpAbsoluteFigure(points: readonly PointSummary[], ctx: FigureContext): TopLevelSpec {
  return lineChart(absoluteRows(points, 'UDP_STREAM', null, ctx), { title: 'Fig. 6a: UDP_STREAM throughput received vs message size', subtitle: ctx.subtitle, xTitle: X_TITLE.UDP_STREAM, yTitle: THROUGHPUT, environments: ctx.environments, accelerators: ctx.accelerators });
}

/** Fig. 6b: UDP throughput relative to native. */
export function udpRelativeFigure(relative: readonly RelativePoint[], points: readonly PointSummary[], ctx: FigureContext): TopLevelSpec {
  return lineChart(relativeRows(relative, points, 'UDP_STREAM', null, ctx), { title: 'Fig. 6b: UDP_STREAM throughput relative to native', subtitle: ctx.subtitle, xTitle: X_TITLE.UDP_STREAM, yTitle: RELATIVE, environments: ctx.environments, accelerators: ctx.accelerators, rule: 1, intervalTitle: '95% CI (delta method)' });
}

/** Fig. 7: UDP okay rate (messages received / messages sent) vs message size. */
export function okRateFigure(delivery: readonly UdpDelivery[], ctx: FigureContext): TopLevelSpec {
  return lineChart(
    delivery.map((d) => ({ environment: environmentLabel(d.environment, own(ctx.accelerators, d.environment)), x: d.x, y: d.okRate, low: d.okRate, high: d.okRate, n: null })),
    { title: 'Fig. 7: UDP okay rate (messages received / messages sent, pooled over replicates)', subtitle: ctx.subtitle, xTitle: X_TITLE.UDP_STREAM, yTitle: 'Okay rate (fraction)', environments: ctx.environments, accelerators: ctx.accelerators, intervalTitle: 'pooled' },
  );
}

/** Requested vs effective send socket size: what the kernel gave (not in the paper). */
export function socketSizeFigure(rows: readonly SocketSizeRow[], ctx: FigureContext): TopLevelSpec {
  return lineChart(
    rows.map((r) => ({ environment: environmentLabel(r.environment, own(ctx.accelerators, r.environment)), x: r.requested, y: r.effective, low: r.effective, high: r.effective, n: null })),
    { title: 'Send socket size: requested (-s) vs what the kernel gave (LSS_SIZE_END)', subtitle: [...ctx.subtitle, 'Linux doubles the request, applies its minimum and clamps to net.core.wmem_max'], xTitle: PARAMETER_AXIS_TITLE.sendSocketSize, yTitle: 'Effective send socket size (bytes)', environments: ctx.environments, accelerators: ctx.accelerators, yZero: true, intervalTitle: 'median' },
  );
}
