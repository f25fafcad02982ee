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
import { tcpGoodputCapacityMbit, udpGoodputCapacityMbit } from '../../analyse/capacity.ts';

export interface FigureContext {
  /** One short line: "run <id>, plan <name>, link", and "TCG guests" when a guest ran under TCG. */
  subtitle: string[];
  environments: readonly string[];
  /** Each environment's accelerator: a TCG guest is titled "... on QEMU (TCG)" in legends. */
  accelerators: Record<string, string>;
  /** The shaped link's rate (10^6 bits/s), for the capacity line; null for an external server. */
  linkRateMbit: number | null;
}

export const TCG_WARNING = 'TCG: QEMU guests ran under emulation (no hardware virtualization), not comparable to KVM';
/** The warning as every chart of a TCG run carries it, in its one subtitle line. */
export const TCG_SHORT = 'TCG guests: emulation, not KVM';

export function usesTcg(manifest: Pick<Manifest, 'environmentDescriptions'>): boolean {
  return Object.values(manifest.environmentDescriptions ?? {}).some((d) => d.accelerator === 'tcg');
}

export function figureContext(manifest: Manifest, environments: readonly string[]): FigureContext {
  const base = `run ${manifest.runId}, plan ${manifest.plan.name}${manifest.link?.rateMbit ? `, ${manifest.link.rateMbit} Mbit/s link` : ''}${manifest.link?.oneWayDelayMicroseconds ? `, ${manifest.link.oneWayDelayMicroseconds / 1000} ms one-way delay` : ''}`;
  const accelerators = Object.fromEntries(
    Object.entries(manifest.environmentDescriptions ?? {}).map(([e, d]) => [e, d.accelerator]),
  );
  return {
    subtitle: [usesTcg(manifest) ? `${base} · ${TCG_SHORT}` : base],
    environments,
    accelerators,
    linkRateMbit: manifest.link?.rateMbit ?? null,
  };
}

const X_TITLE: Record<TestName, string> = {
  TCP_STREAM: PARAMETER_AXIS_TITLE.sendSocketSize,
  UDP_STREAM: PARAMETER_AXIS_TITLE.messageSize,
};
const THROUGHPUT = 'Throughput (10^6 bits/s)';

/** The UDP charts' x title from what the run swept: -m (message size) or -r (datagram size, as the paper ran it). */
export function udpXTitle(points: readonly PointSummary[]): string {
  const parameters = new Set(points.filter((p) => p.test === 'UDP_STREAM').map((p) => p.parameter));
  const [only] = parameters;
  return parameters.size === 1 && only !== undefined ? PARAMETER_AXIS_TITLE[only] : X_TITLE.UDP_STREAM;
}
const RELATIVE = 'Throughput relative to native (ratio)';
/** Absolute intervals are cut 5% of the capacity beyond what can be or was measured (absoluteClip). */
const CAPACITY_HEADROOM = 1.05;
/** Relative intervals are cut at half and one and a half times native's: wider says only "undecided". */
const RELATIVE_CLIP = { min: 0.5, max: 1.5 };
/** A ratio axis spans at least +-5% around 1: two curves within a percent of native are drawn as equal, not apart. */
const RELATIVE_AT_LEAST = [0.95, 1.05] as const;
/** The okay rate's axis spans 0 to a little above 1, so a plateau at 1 neither looks like a cliff nor hugs the top. */
const OK_RATE_AT_LEAST = [0, 1.05] as const;
const OK_RATE_CLIP = { min: 0, max: 1 };

/** The capacity line of an absolute chart at the x values present: TCP goodput, or UDP payload goodput per datagram size. */
function capacityLine(
  test: TestName,
  xs: readonly number[],
  ctx: FigureContext,
): { label: string; values: { x: number; y: number }[] } | undefined {
  if (ctx.linkRateMbit === null || xs.length === 0) return undefined;
  const rate = ctx.linkRateMbit;
  const unique = [...new Set(xs)].sort((a, b) => a - b);
  if (test === 'TCP_STREAM') {
    const y = tcpGoodputCapacityMbit(rate);
    return {
      label: `the link's capacity, its TCP goodput (${y.toFixed(2)} at ${rate} Mbit/s)`,
      values: unique.map((x) => ({ x, y })),
    };
  }
  return {
    label: `the link's capacity, its UDP payload goodput per datagram size (${rate} Mbit/s, MTU 1500)`,
    values: unique.map((x) => ({ x, y: udpGoodputCapacityMbit(rate, x) })),
  };
}

/**
 * Where absolute intervals are cut: a little above the link's capacity (nothing measured passes it),
 * and below at the lowest value measured (mean or replicate) less the same margin, never below 0: an
 * interval reaching below every replicate says only "too few replicates", and would squeeze the curves.
 */
function absoluteClip(
  capacity: ReturnType<typeof capacityLine>,
  rows: readonly LineRow[],
): { min: number; max: number } {
  const top = capacity ? Math.max(...capacity.values.map((v) => v.y)) : null;
  const lowest = Math.min(...rows.flatMap((r) => [r.y, ...r.samples]));
  return {
    min: top === null || !Number.isFinite(lowest) ? 0 : Math.max(0, lowest - (CAPACITY_HEADROOM - 1) * top),
    max: top === null ? Number.POSITIVE_INFINITY : top * CAPACITY_HEADROOM,
  };
}

function absoluteRows(
  points: readonly PointSummary[],
  test: TestName,
  series: readonly string[] | null,
  ctx: FigureContext,
): LineRow[] {
  return points
    .filter((p) => p.test === test && p.throughput.n > 0 && (!series || series.includes(p.series)))
    .map((p) => ({
      environment: environmentLabel(p.environment, own(ctx.accelerators, p.environment)),
      x: p.value,
      y: p.throughput.mean,
      low: p.throughput.ciLow ?? p.throughput.mean,
      high: p.throughput.ciHigh ?? p.throughput.mean,
      n: p.throughput.n,
      samples: p.samples,
      flagged: p.flagged > 0,
    }));
}

function relativeRows(
  relative: readonly RelativePoint[],
  points: readonly PointSummary[],
  test: TestName,
  series: readonly string[] | null,
  ctx: FigureContext,
): LineRow[] {
  const n = new Map(points.map((p) => [`${p.environment}|${p.test}|${p.value}`, p.throughput.n]));
  return relative
    .filter((r) => r.test === test && (!series || series.includes(r.series)))
    .map((r) => ({
      environment: environmentLabel(r.environment, own(ctx.accelerators, r.environment)),
      x: r.x,
      y: r.relative,
      low: r.low ?? r.relative,
      high: r.high ?? r.relative,
      n: n.get(`${r.environment}|${r.test}|${r.x}`) ?? null,
      samples: [],
    }));
}

const seriesLabel = (series: readonly string[] | null) =>
  series === null ? 'all series' : `series ${series.join(' + ')}`;

/** Fig. 4 a, c, e: absolute TCP throughput vs send socket size for one series, or all (null). */
export function tcpAbsoluteFigure(
  points: readonly PointSummary[],
  series: readonly string[] | null,
  figure: string,
  ctx: FigureContext,
): TopLevelSpec {
  const rows = absoluteRows(points, 'TCP_STREAM', series, ctx);
  const capacity = capacityLine(
    'TCP_STREAM',
    rows.map((r) => r.x),
    ctx,
  );
  return lineChart(rows, {
    title: `Fig. ${figure}: TCP_STREAM throughput vs send socket size (${seriesLabel(series)})`,
    subtitle: ctx.subtitle,
    xTitle: X_TITLE.TCP_STREAM,
    yTitle: THROUGHPUT,
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    capacity,
    clip: absoluteClip(capacity, rows),
    yZero: true,
  });
}

/**
 * Fig. 4 over the send socket size the kernel gave (LSS_SIZE_END, the replicates' median) instead
 * of the one asked for: requests that end at one size (Linux doubles -s and applies its minimum,
 * so -s 100 ... 2300 all give 4608 B) are one condition, stacked at one x.
 */
export function tcpEffectiveSizeFigure(
  points: readonly PointSummary[],
  figure: string,
  ctx: FigureContext,
): TopLevelSpec {
  const tcp = points.filter(
    (p) =>
      p.test === 'TCP_STREAM' &&
      p.parameter === 'sendSocketSize' &&
      p.throughput.n > 0 &&
      p.effectiveSendSocket !== null,
  );
  const rows = tcp.map((p) => ({
    environment: environmentLabel(p.environment, own(ctx.accelerators, p.environment)),
    x: p.effectiveSendSocket!,
    y: p.throughput.mean,
    low: p.throughput.ciLow ?? p.throughput.mean,
    high: p.throughput.ciHigh ?? p.throughput.mean,
    n: p.throughput.n,
    samples: p.samples,
    requested: p.value,
  }));
  const capacity = capacityLine(
    'TCP_STREAM',
    rows.map((r) => r.x),
    ctx,
  );
  return lineChart(rows, {
    title: `Fig. ${figure}: TCP_STREAM throughput vs effective send socket size (all series)`,
    subtitle: ctx.subtitle,
    notes: sharedSizeNotes(tcp),
    xTitle: 'Effective send socket size, LSS_SIZE_END (bytes)',
    yTitle: THROUGHPUT,
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    capacity,
    clip: absoluteClip(capacity, rows),
    yZero: true,
    connect: false,
    extraTooltip: [{ field: 'requested', title: PARAMETER_AXIS_TITLE.sendSocketSize }],
  });
}

/** "-s 100...2300 all gave 4608 B": each effective size that several requested sizes ended at. */
export function sharedSizeNotes(points: readonly PointSummary[]): string[] {
  const byEffective = new Map<number, Set<number>>();
  for (const p of points) {
    if (p.effectiveSendSocket === null) continue;
    const set = byEffective.get(p.effectiveSendSocket) ?? new Set<number>();
    set.add(p.value);
    byEffective.set(p.effectiveSendSocket, set);
  }
  return [...byEffective.entries()]
    .filter(([, requested]) => requested.size > 1)
    .sort(([a], [b]) => a - b)
    .map(([effective, requested]) => {
      const r = [...requested].sort((a, b) => a - b);
      return `-s ${r[0]}...${r[r.length - 1]} (${r.length} sizes) all gave ${effective} B: one condition`;
    });
}

/** Fig. 4 b, d, f: TCP throughput relative to native. */
export function tcpRelativeFigure(
  relative: readonly RelativePoint[],
  points: readonly PointSummary[],
  series: readonly string[] | null,
  figure: string,
  ctx: FigureContext,
): TopLevelSpec {
  return lineChart(relativeRows(relative, points, 'TCP_STREAM', series, ctx), {
    title: `Fig. ${figure}: TCP_STREAM throughput relative to native (${seriesLabel(series)})`,
    subtitle: ctx.subtitle,
    xTitle: X_TITLE.TCP_STREAM,
    yTitle: RELATIVE,
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    rule: 1,
    intervalTitle: '95% CI (delta method)',
    clip: RELATIVE_CLIP,
    yAtLeast: RELATIVE_AT_LEAST,
  });
}

/** Fig. 5/7: average relative TCP throughput over the restricted socket range. */
export function restrictedAverageFigure(averages: readonly RangeAverage[], ctx: FigureContext): TopLevelSpec {
  const first = averages[0];
  const range = first ? `${first.from}-${first.to} B` : '0-6000 B';
  return barChart(
    averages.map((a) => ({
      environment: environmentLabel(a.environment, own(ctx.accelerators, a.environment)),
      value: a.average,
      low: a.average - (a.halfWidth ?? 0),
      high: a.average + (a.halfWidth ?? 0),
      points: a.points,
    })),
    {
      title: `Fig. 5/7: average relative TCP throughput, socket sizes ${range}`,
      subtitle: ctx.subtitle,
      yTitle: 'Average throughput relative to native (ratio)',
      environments: ctx.environments,
      accelerators: ctx.accelerators,
      rule: 1,
    },
  );
}

/** The Discussion's signed area between each curve and native's (no figure in the paper). */
export function signedAreaFigure(areas: readonly SignedArea[], ctx: FigureContext): TopLevelSpec {
  const first = areas[0];
  const range = first ? `${first.from}-${first.to} B` : '0-6000 B';
  return barChart(
    areas.map((a) => ({
      environment: environmentLabel(a.environment, own(ctx.accelerators, a.environment)),
      value: a.area / 1000,
      low: a.area / 1000,
      high: a.area / 1000,
      points: a.points,
    })),
    {
      title: `Signed area between each TCP curve and native's, ${range} (trapezoid rule)`,
      subtitle: ctx.subtitle,
      yTitle: 'Area (10^6 bits/s x kB; above native > 0)',
      environments: ctx.environments,
      accelerators: ctx.accelerators,
      rule: 0,
    },
  );
}

/** Fig. 6a: absolute UDP throughput vs message size. */
export function udpAbsoluteFigure(points: readonly PointSummary[], ctx: FigureContext): TopLevelSpec {
  const rows = absoluteRows(points, 'UDP_STREAM', null, ctx);
  const capacity = capacityLine(
    'UDP_STREAM',
    rows.map((r) => r.x),
    ctx,
  );
  return lineChart(rows, {
    title: 'Fig. 6a: UDP_STREAM throughput received vs message size',
    subtitle: ctx.subtitle,
    xTitle: udpXTitle(points),
    yTitle: THROUGHPUT,
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    capacity,
    clip: absoluteClip(capacity, rows),
    yZero: true,
  });
}

/** Fig. 6b: UDP throughput relative to native. */
export function udpRelativeFigure(
  relative: readonly RelativePoint[],
  points: readonly PointSummary[],
  ctx: FigureContext,
): TopLevelSpec {
  return lineChart(relativeRows(relative, points, 'UDP_STREAM', null, ctx), {
    title: 'Fig. 6b: UDP_STREAM throughput relative to native',
    subtitle: ctx.subtitle,
    xTitle: udpXTitle(points),
    yTitle: RELATIVE,
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    rule: 1,
    intervalTitle: '95% CI (delta method)',
    clip: RELATIVE_CLIP,
    yAtLeast: RELATIVE_AT_LEAST,
  });
}

/** Fig. 7: UDP okay rate (messages received / messages sent) vs message size. */
export function okRateFigure(
  delivery: readonly UdpDelivery[],
  ctx: FigureContext,
  xTitle: string = X_TITLE.UDP_STREAM,
): TopLevelSpec {
  return lineChart(
    delivery.map((d) => ({
      environment: environmentLabel(d.environment, own(ctx.accelerators, d.environment)),
      x: d.x,
      y: d.okRate,
      low: d.low ?? d.okRate,
      high: d.high ?? d.okRate,
      n: d.replicateRates.length,
      samples: d.replicateRates,
    })),
    {
      title: 'Fig. 7: UDP okay rate (messages received / messages sent, pooled over replicates)',
      subtitle: ctx.subtitle,
      notes: ["interval: 95% t interval from the replicates' own okay rates, around the pooled rate"],
      xTitle,
      yTitle: 'Okay rate (fraction)',
      environments: ctx.environments,
      accelerators: ctx.accelerators,
      intervalTitle: '95% CI',
      clip: OK_RATE_CLIP,
      yAtLeast: OK_RATE_AT_LEAST,
    },
  );
}

/** Requested vs effective send socket size: what the kernel gave (not in the paper). */
export function socketSizeFigure(rows: readonly SocketSizeRow[], ctx: FigureContext): TopLevelSpec {
  return lineChart(
    rows.map((r) => ({
      environment: environmentLabel(r.environment, own(ctx.accelerators, r.environment)),
      x: r.requested,
      y: r.effective,
      low: r.effective,
      high: r.effective,
      n: null,
      samples: [],
    })),
    {
      title: 'Send socket size: requested (-s) vs what the kernel gave (LSS_SIZE_END)',
      subtitle: ctx.subtitle,
      notes: ['Linux doubles the request, applies its minimum and clamps to net.core.wmem_max'],
      xTitle: PARAMETER_AXIS_TITLE.sendSocketSize,
      yTitle: 'Effective send socket size (bytes)',
      environments: ctx.environments,
      accelerators: ctx.accelerators,
      yZero: true,
      intervalTitle: 'median',
    },
  );
}

/** What the CPU cost charts count, under each of them. */
export const CPU_COST_NOTES = [
  "server side only: a container's cgroup, a native netserver's or a guest's QEMU's CPU time over netperf's window",
  "not counted: the client's netperf, the testbed's delay line, and softirq time run outside the server's tasks (results.jsonl has the machine's softirq beside it)",
];

/**
 * The CPU cost of one sweep, beside its throughput chart: the server side's CPU-seconds per
 * gigabyte delivered per point (aggregate.ts cpuPerGigabyte), mean and interval over replicates.
 * Null when no point of the sweep recorded one.
 */
export function cpuCostFigure(
  points: readonly PointSummary[],
  test: TestName,
  series: string,
  ctx: FigureContext,
): TopLevelSpec | null {
  const rows: LineRow[] = points
    .filter((p) => p.test === test && p.series === series && p.cpuPerGigabyte !== undefined)
    .map((p) => {
      const s = p.cpuPerGigabyte!.summary;
      return {
        environment: environmentLabel(p.environment, own(ctx.accelerators, p.environment)),
        x: p.value,
        y: s.mean,
        low: s.ciLow ?? s.mean,
        high: s.ciHigh ?? s.mean,
        n: s.n,
        samples: p.cpuPerGigabyte!.samples,
        flagged: p.flagged > 0,
      };
    });
  if (rows.length === 0) return null;
  // An interval reaching below 0 (two replicates far apart) says only "too few replicates": cut at 0.
  const top = Math.max(...rows.flatMap((r) => [r.y, ...r.samples]));
  return lineChart(rows, {
    title: `CPU cost: ${test} (${series}), server CPU-seconds per gigabyte delivered`,
    subtitle: ctx.subtitle,
    notes: CPU_COST_NOTES,
    xTitle: test === 'TCP_STREAM' ? X_TITLE.TCP_STREAM : udpXTitle(points.filter((p) => p.series === series)),
    yTitle: 'Server CPU-seconds per 10^9 bytes delivered',
    environments: ctx.environments,
    accelerators: ctx.accelerators,
    clip: { min: 0, max: 2 * top },
    yZero: true,
  });
}
