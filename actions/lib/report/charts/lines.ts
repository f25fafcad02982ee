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
  /** Some measurement behind the point was flagged as disturbed by the host: drawn hollow. */
  flagged?: boolean;
}

export interface LineChartOptions {
  title: string;
  /** One string per line. */
  subtitle: string[];
  xTitle: string;
  yTitle: string;
  /** The environments' short names present, for the colour scale. */
  environments: readonly string[];
  /** Each environment's accelerator (TCG guests get their own title). */
  accelerators?: Readonly<Record<string, string>>;
  /** A reference line (1 for relative throughput). */
  rule?: number;
  yZero?: boolean;
  /** Error bars drawn only when some row has an interval. */
  intervalTitle?: string;
}

const round = (v: number) => Math.round(v * 10000) / 10000;

export function lineChart(rows: readonly LineRow[], o: LineChartOptions): TopLevelSpec {
  const scales = environmentScales(o.environments, o.accelerators);
  const values = rows.map((r) => ({ ...r, y: round(r.y), low: round(r.low), high: round(r.high) }));
  const anyFlagged = rows.some((r) => r.flagged);
  const x = { field: 'x', type: 'quantitative' as const, title: o.xTitle };
  const color = { field: 'environment', type: 'nominal' as const, title: 'Environment', scale: scales.color };
  const y = { field: 'y', type: 'quantitative' as const, title: o.yTitle, scale: { zero: o.yZero ?? false } };
  const layer: unknown[] = [
    { mark: { type: 'errorbar', ticks: true, aria: false }, encoding: { y: { field: 'low', type: 'quantitative', title: o.yTitle }, y2: { field: 'high' } } },
    { mark: { type: 'line', strokeWidth: 1.5, aria: false }, encoding: { y, strokeDash: { field: 'environment', type: 'nominal', scale: scales.dash, title: 'Environment' } } },
    {
      // No per-point ARIA labels in the SVG: they double its size; the tooltips carry the values.
      mark: { type: 'point', filled: true, size: 40, strokeWidth: 1.5, aria: false },
      // Drag to pan, wheel to zoom (interactive page only; the SVG is the static fallback).
      params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x', 'y'] }, bind: 'scales' }],
      encoding: {
        y,
        shape: { field: 'environment', type: 'nominal', scale: scales.shape, title: 'Environment' },
        // A point with a measurement taken while the host was busy is drawn hollow: its outline in the environment's colour.
        ...(anyFlagged ? { stroke: { field: 'environment', type: 'nominal', scale: scales.color, legend: null }, fillOpacity: { condition: { test: 'datum.flagged', value: 0 }, value: 1 } } : {}),
        tooltip: [
          { field: 'environment', title: 'Environment' },
          { field: 'x', title: o.xTitle },
          { field: 'y', title: o.yTitle },
          { field: 'low', title: `${o.intervalTitle ?? '95% CI'} low` },
          { field: 'high', title: `${o.intervalTitle ?? '95% CI'} high` },
          { field: 'n', title: 'Replicates' },
          ...(anyFlagged ? [{ field: 'flagged', title: 'Disturbed (hollow)' }] : []),
        ],
      },
    },
  ];
  if (o.rule !== undefined) layer.unshift({ data: { values: [{ rule: o.rule }] }, mark: { type: 'rule', color: '#888888', strokeDash: [4, 4] }, encoding: { y: { field: 'rule', type: 'quantitative' }, x: null, color: null } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle },
    width: 560,
    height: 300,
    data: { values },
    config: CHART_CONFIG,
    encoding: { x, color },
    layer,
  } as TopLevelSpec;
}

export interface BarRow {
  environment: string;
  value: number;
  low: number;
  high: number;
  points: number;
}

export function barChart(rows: readonly BarRow[], o: { title: string; subtitle: string[]; yTitle: string; environments: readonly string[]; accelerators?: Readonly<Record<string, string>>; rule?: number }): TopLevelSpec {
  const scales = environmentScales(o.environments, o.accelerators);
  const values = rows.map((r) => ({ ...r, value: round(r.value), low: round(r.low), high: round(r.high) }));
  const x = { field: 'environment', type: 'nominal' as const, title: 'Environment', sort: scales.domain, axis: { labels: false, ticks: false } };
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
    { mark: { type: 'errorbar', ticks: true, color: '#777777', aria: false }, encoding: { y: { field: 'low', type: 'quantitative', title: o.yTitle }, y2: { field: 'high' } } },
    // The value above each bar: differences of a few percent do not show in bar heights.
    { mark: { type: 'text', dy: -8, fontSize: 11 }, encoding: { y: { field: 'high', type: 'quantitative' }, text: { field: 'value', type: 'quantitative', format: '.3~f' } } },
  ];
  if (o.rule !== undefined) layer.push({ data: { values: [{ rule: o.rule }] }, mark: { type: 'rule', color: '#888888', strokeDash: [4, 4] }, encoding: { y: { field: 'rule', type: 'quantitative' }, x: null } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle },
    width: 360,
    height: 260,
    data: { values },
    config: CHART_CONFIG,
    encoding: { x },
    layer,
  } as TopLevelSpec;
}
