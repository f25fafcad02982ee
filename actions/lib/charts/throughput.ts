// Throughput vs the swept parameter, one line per environment with confidence-interval error bars.
// The paper's Fig. 4 (TCP, absolute) and Fig. 6 (UDP, absolute). Pure: summaries in, spec out.

import type { TopLevelSpec } from 'vega-lite';
import type { PointSummary } from '../aggregate.ts';
import type { TestName } from '../plan.ts';
import { CHART_CONFIG, environmentScales, environmentTitle } from './style.ts';

export const AXIS_TITLES: Record<string, string> = {
  sendSocketSize: 'Send socket size requested, -s (bytes)',
  messageSize: 'UDP message size, -m (bytes)',
};

export interface ThroughputChartOptions {
  test: TestName;
  title: string;
  subtitle?: string;
  /** Only these series (e.g. the TCP series starting at 100 B); all when unset. */
  series?: readonly string[];
}

export function throughputRows(points: readonly PointSummary[], options: ThroughputChartOptions) {
  return points
    .filter((p) => p.test === options.test && (!options.series || options.series.includes(p.series)) && p.throughput.n > 0)
    .map((p) => ({
      environment: environmentTitle(p.environment),
      x: p.value,
      mean: round(p.throughput.mean),
      low: round(p.throughput.ciLow ?? p.throughput.mean),
      high: round(p.throughput.ciHigh ?? p.throughput.mean),
      n: p.throughput.n,
      series: p.series,
    }));
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function throughputChart(points: readonly PointSummary[], options: ThroughputChartOptions): TopLevelSpec {
  const rows = throughputRows(points, options);
  const scales = environmentScales([...new Set(points.filter((p) => p.test === options.test).map((p) => p.environment))]);
  const parameter = points.find((p) => p.test === options.test)?.parameter ?? 'sendSocketSize';
  const x = { field: 'x', type: 'quantitative' as const, title: AXIS_TITLES[parameter] ?? parameter };
  const color = { field: 'environment', type: 'nominal' as const, title: 'Environment', scale: scales.color };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.subtitle ? { text: options.title, subtitle: options.subtitle } : options.title,
    width: 560,
    height: 300,
    data: { values: rows },
    config: CHART_CONFIG,
    encoding: { x, color },
    layer: [
      {
        mark: { type: 'errorbar', ticks: true },
        encoding: {
          y: { field: 'low', type: 'quantitative', title: 'Throughput (10^6 bits/s)' },
          y2: { field: 'high' },
        },
      },
      {
        mark: { type: 'line', point: false, strokeWidth: 1.5 },
        encoding: {
          y: { field: 'mean', type: 'quantitative' },
          strokeDash: { field: 'environment', type: 'nominal', scale: scales.dash, legend: null },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          y: { field: 'mean', type: 'quantitative' },
          shape: { field: 'environment', type: 'nominal', scale: scales.shape, title: 'Environment' },
          tooltip: [
            { field: 'environment', title: 'Environment' },
            { field: 'x', title: x.title },
            { field: 'mean', title: 'Mean (10^6 bits/s)' },
            { field: 'low', title: '95% CI low' },
            { field: 'high', title: '95% CI high' },
            { field: 'n', title: 'Replicates' },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}
