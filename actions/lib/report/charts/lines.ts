// A line chart with error bars, one line per environment: the shape of every curve figure
// (relative throughput, okay rate, socket sizes). Pure: rows in, Vega-Lite spec out.

import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, environmentScales } from './style.ts';

export interface LineRow {
  /** Environment title (style.ts), the colour key. */
  environment: string;
  x: number;
  y: number;
  low: number;
  high: number;
  n: number | null;
  /** Each replicate's value, drawn as a faint dot at the mean's x; [] for none. */
  samples: number[];
  /** Some measurement behind the point was flagged as disturbed by the host: drawn hollow. */
  flagged?: boolean;
}

export interface LineChartOptions {
  title: string;
  /** One short line under the title (the run); what the marks mean goes into notes. */
  subtitle: string[];
  /** What the marks mean, how intervals are cut: under the chart on the site, in the SVG's description (chartNotes). */
  notes?: string[];
  xTitle: string;
  yTitle: string;
  /** The environments' short names present, for the colour scale. */
  environments: readonly string[];
  /** Each environment's accelerator (TCG guests get their own title). */
  accelerators?: Readonly<Record<string, string>>;
  /** A reference line (1 for relative throughput). */
  rule?: number;
  /** The y axis starts at 0: for absolute values, where a plateau must not look like a cliff. */
  yZero?: boolean;
  /** The y axis spans at least these values (around 1 for ratios): a difference of a few percent is not drawn as a cliff. */
  yAtLeast?: readonly [number, number];
  /** Error bars drawn only when some row has an interval. */
  intervalTitle?: string;
  /** The link's payload capacity, drawn as a grey dashed line through these points (one y for TCP, per x for UDP). */
  capacity?: { label: string; values: readonly { x: number; y: number }[] };
  /** Intervals are cut at these bounds, a triangle marking each cut end, so one wide interval cannot swamp the chart. */
  clip?: { min: number; max: number };
  /** Draw the line between points (default); false where several points share an x. */
  connect?: boolean;
  /** More fields of the rows shown in the points' tooltips. */
  extraTooltip?: readonly { field: string; title: string }[];
}

/** The subtitle lines that explain the marks: replicate dots, clipped intervals. */
export const REPLICATES_NOTE = 'faint dots just right of each mark: the single replicates; the mark: their mean';
export function clipNote(
  clip: { min: number; max: number },
  format: (v: number) => string = (v) => String(Number(v.toFixed(2))),
): string {
  const bounds = [
    Number.isFinite(clip.max) ? `\u25B2 above ${format(clip.max)}` : null,
    Number.isFinite(clip.min) ? `\u25BC below ${format(clip.min)}` : null,
  ].filter((b) => b !== null);
  return `${bounds.join(', ')}: the interval reaches beyond the axis and is cut there (the tooltip gives its ends)`;
}

const round = (v: number) => Math.round(v * 10000) / 10000;

function yScale(o: Pick<LineChartOptions, 'yZero' | 'yAtLeast'>): { zero: boolean; domain?: { unionWith: number[] } } {
  return { zero: o.yZero ?? false, ...(o.yAtLeast ? { domain: { unionWith: [...o.yAtLeast] } } : {}) };
}

/**
 * A chart's notes (what its marks mean) travel in the spec: as usermeta for the pages, which show
 * them under the chart, and as the description, which the rendered SVG keeps for screen readers.
 */
export function notesOf(notes: readonly string[]): { description?: string; usermeta?: { notes: string[] } } {
  return notes.length === 0 ? {} : { description: notes.join('; '), usermeta: { notes: [...notes] } };
}

/** The notes of a spec made here ([] for none or for a spec from elsewhere). */
export function chartNotes(spec: object): string[] {
  const meta = (spec as { usermeta?: { notes?: unknown } }).usermeta;
  return Array.isArray(meta?.notes) ? meta.notes.filter((n): n is string => typeof n === 'string') : [];
}

export function lineChart(rows: readonly LineRow[], o: LineChartOptions): TopLevelSpec {
  const scales = environmentScales(o.environments, o.accelerators);
  const clip = o.clip ?? { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
  const values = rows.map((r) => ({
    ...r,
    y: round(r.y),
    low: round(r.low),
    high: round(r.high),
    samples: r.samples.map(round),
    // The interval as drawn: cut at the clip bounds; lowClipped/highClipped place the triangles.
    barLow: round(Math.max(r.low, clip.min)),
    barHigh: round(Math.min(r.high, clip.max)),
    lowClipped: r.low < clip.min,
    highClipped: r.high > clip.max,
  }));
  const notes = [
    ...(o.notes ?? []),
    ...(o.capacity && o.capacity.values.length > 0 ? [`grey dashed line: ${o.capacity.label}`] : []),
    ...(rows.some((r) => r.samples.length > 1) ? [REPLICATES_NOTE] : []),
    ...(values.some((v) => v.lowClipped || v.highClipped) ? [clipNote(clip)] : []),
  ];
  const anyFlagged = rows.some((r) => r.flagged);
  const x = { field: 'x', type: 'quantitative' as const, title: o.xTitle };
  const color = { field: 'environment', type: 'nominal' as const, title: 'Environment', scale: scales.color };
  // The y scale (zero, the domain's union) is given once, on the point layer: given on two layers
  // vega-lite merges the domains and warns "Conflicting scale property domains".
  const yPlain = { field: 'y', type: 'quantitative' as const, title: o.yTitle };
  const y = { ...yPlain, scale: yScale(o) };
  const intervalTitle = o.intervalTitle ?? '95% CI';
  const layer: unknown[] = [
    {
      mark: { type: 'errorbar', ticks: true, aria: false },
      encoding: { y: { field: 'barLow', type: 'quantitative', title: o.yTitle }, y2: { field: 'barHigh' } },
    },
    // Each replicate, faint and small, at its point's x: how far the mean is from what was measured.
    {
      name: 'replicates',
      transform: [{ flatten: ['samples'], as: ['sample'] }],
      mark: { type: 'point', filled: true, size: 14, opacity: 0.4, xOffset: 6, aria: false },
      encoding: {
        y: { field: 'sample', type: 'quantitative' },
        tooltip: [
          { field: 'environment', title: 'Environment' },
          { field: 'x', title: o.xTitle },
          { field: 'sample', title: 'Replicate' },
        ],
      },
    },
    ...(['high', 'low'] as const).map((end) => ({
      name: `clipped_${end}`,
      transform: [{ filter: `datum.${end}Clipped` }],
      mark: {
        type: 'point',
        shape: end === 'high' ? 'triangle-up' : 'triangle-down',
        filled: true,
        size: 60,
        aria: false,
      },
      encoding: {
        y: { field: end === 'high' ? 'barHigh' : 'barLow', type: 'quantitative' },
        tooltip: [
          { field: 'environment', title: 'Environment' },
          { field: 'x', title: o.xTitle },
          { field: 'low', title: `${intervalTitle} low` },
          { field: 'high', title: `${intervalTitle} high` },
        ],
      },
    })),
    ...(o.connect === false
      ? []
      : [
          {
            mark: { type: 'line', strokeWidth: 1.5, aria: false },
            encoding: {
              y: yPlain,
              strokeDash: { field: 'environment', type: 'nominal', scale: scales.dash, title: 'Environment' },
            },
          },
        ]),
    {
      // No per-point ARIA labels in the SVG: they double its size; the tooltips carry the values.
      mark: { type: 'point', filled: true, size: 40, strokeWidth: 1.5, aria: false },
      // Drag to pan, wheel to zoom (interactive page only; the SVG is the static fallback).
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' }],
      encoding: {
        y,
        shape: { field: 'environment', type: 'nominal', scale: scales.shape, title: 'Environment' },
        // A point with a measurement taken while the host was busy is drawn hollow: its outline in the environment's colour.
        ...(anyFlagged
          ? {
              stroke: { field: 'environment', type: 'nominal', scale: scales.color, legend: null },
              fillOpacity: { condition: { test: 'datum.flagged', value: 0 }, value: 1 },
            }
          : {}),
        tooltip: [
          { field: 'environment', title: 'Environment' },
          { field: 'x', title: o.xTitle },
          { field: 'y', title: o.yTitle },
          { field: 'low', title: `${intervalTitle} low` },
          { field: 'high', title: `${intervalTitle} high` },
          { field: 'n', title: 'Replicates' },
          ...(anyFlagged ? [{ field: 'flagged', title: 'Disturbed (hollow)' }] : []),
          ...(o.extraTooltip ?? []),
        ],
      },
    },
  ];
  if (o.rule !== undefined)
    layer.unshift({
      data: { values: [{ rule: o.rule }] },
      mark: { type: 'rule', color: '#888888', strokeDash: [4, 4] },
      encoding: { y: { field: 'rule', type: 'quantitative' }, x: null, color: null },
    });
  if (o.capacity && o.capacity.values.length > 0) layer.unshift(capacityLayer(o.capacity, o.xTitle, o.yTitle));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle },
    ...notesOf(notes),
    width: 560,
    height: 300,
    data: { values },
    config: CHART_CONFIG,
    encoding: { x, color },
    layer,
  } as TopLevelSpec;
}

/** The capacity line (its label goes into the subtitle: on the chart it would sit on the data, which reaches it). */
function capacityLayer(capacity: NonNullable<LineChartOptions['capacity']>, xTitle: string, yTitle: string): unknown {
  const values = [...capacity.values].sort((a, b) => a.x - b.x).map((v) => ({ x: v.x, capacity: round(v.y) }));
  return {
    name: 'capacity',
    data: { values },
    mark: { type: 'line', color: '#888888', strokeDash: [6, 4], strokeWidth: 1.2, aria: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'capacity', type: 'quantitative', title: yTitle },
      color: null,
    },
  };
}

export interface BarRow {
  environment: string;
  value: number;
  low: number;
  high: number;
  points: number;
}

export function barChart(
  rows: readonly BarRow[],
  o: {
    title: string;
    subtitle: string[];
    notes?: string[];
    yTitle: string;
    environments: readonly string[];
    accelerators?: Readonly<Record<string, string>>;
    rule?: number;
  },
): TopLevelSpec {
  const scales = environmentScales(o.environments, o.accelerators);
  const values = rows.map((r) => ({ ...r, value: round(r.value), low: round(r.low), high: round(r.high) }));
  const x = {
    field: 'environment',
    type: 'nominal' as const,
    title: 'Environment',
    sort: scales.domain,
    axis: { labels: false, ticks: false },
  };
  const layer: unknown[] = [
    {
      mark: { type: 'bar', aria: false },
      encoding: {
        y: { field: 'value', type: 'quantitative', title: o.yTitle },
        color: { field: 'environment', type: 'nominal', title: 'Environment', scale: scales.color },
        tooltip: [
          { field: 'environment', title: 'Environment' },
          { field: 'value', title: o.yTitle },
          { field: 'low', title: '95% CI low' },
          { field: 'high', title: '95% CI high' },
          { field: 'points', title: 'Points averaged' },
        ],
      },
    },
    {
      mark: { type: 'errorbar', ticks: true, color: '#777777', aria: false },
      encoding: { y: { field: 'low', type: 'quantitative', title: o.yTitle }, y2: { field: 'high' } },
    },
    // The value above each bar: differences of a few percent do not show in bar heights.
    {
      mark: { type: 'text', dy: -8, fontSize: 11 },
      encoding: {
        y: { field: 'high', type: 'quantitative' },
        text: { field: 'value', type: 'quantitative', format: '.3~f' },
      },
    },
  ];
  if (o.rule !== undefined)
    layer.push({
      data: { values: [{ rule: o.rule }] },
      mark: { type: 'rule', color: '#888888', strokeDash: [4, 4] },
      encoding: { y: { field: 'rule', type: 'quantitative' }, x: null },
    });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle },
    ...notesOf(o.notes ?? []),
    width: 360,
    height: 260,
    data: { values },
    config: CHART_CONFIG,
    encoding: { x },
    layer,
  } as TopLevelSpec;
}
