// A over B for one environment and test: run A (the baseline) dashed grey, run B (the candidate)
// solid in the environment's colour, each with its 95 % confidence band; points B regressed or
// improved on are ringed (vermilion / bluish green). Vega-Lite layered spec. Pure: a RunDiff in,
// specs out.

import type { TopLevelSpec } from 'vega-lite';
import type { Classification, RunDiff, SideStats } from './diff.ts';
import type { Parameter, TestName } from '../plan/plan.ts';
import { fileNamePart } from '../core/file-names.ts';
import { CHART_CONFIG, ENVIRONMENT_STYLE, PARAMETER_AXIS_TITLE } from '../report/charts/style.ts';
import { environmentTitle } from '../analyse/environment-names.ts';

export interface OverlayRow {
  /** Which run: the encodings use this, so a chart's shape does not depend on the runs' labels. */
  side: 'A' | 'B';
  run: string;
  series: string;
  x: number;
  mean: number;
  low: number;
  high: number;
  n: number;
  change: string;
  verdict: Classification | 'only in A' | 'only in B';
}

export interface DiffChartEntry {
  id: string;
  title: string;
  environment: string;
  test: TestName;
  spec: TopLevelSpec;
}

const BASELINE_COLOR = '#7f7f7f';
const RUN_A_PARAM = 'run_a';
const RUN_B_PARAM = 'run_b';
const MARK_COLOR: Record<string, string> = { regressed: '#D55E00', improved: '#009E73' };

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function runName(diff: RunDiff, which: 'a' | 'b'): string {
  return which === 'a' ? `A: ${diff.a.label}` : `B: ${diff.b.label}`;
}

function row(
  diff: RunDiff,
  side: 'A' | 'B',
  series: string,
  x: number,
  s: SideStats,
  change: string,
  verdict: OverlayRow['verdict'],
): OverlayRow | null {
  if (s.n === 0 || s.mean === null) return null; // every replicate failed: nothing to draw
  return {
    side,
    run: runName(diff, side === 'A' ? 'a' : 'b'),
    series,
    x,
    mean: round(s.mean),
    low: round(Math.max(0, s.ciLow ?? s.mean)),
    high: round(s.ciHigh ?? s.mean),
    n: s.n,
    change,
    verdict,
  };
}

export function overlayRows(diff: RunDiff, environment: string, test: TestName): OverlayRow[] {
  const mine = <T extends { environment: string; test: TestName }>(xs: readonly T[]) =>
    xs.filter((p) => p.environment === environment && p.test === test);
  const rows: (OverlayRow | null)[] = [];
  for (const p of mine(diff.points)) {
    const change = p.changePercent === null ? 'n/a' : `${p.changePercent > 0 ? '+' : ''}${p.changePercent.toFixed(1)}%`;
    rows.push(
      row(diff, 'A', p.series, p.value, p.a, change, p.classification),
      row(diff, 'B', p.series, p.value, p.b, change, p.classification),
    );
  }
  for (const p of mine(diff.removed)) rows.push(row(diff, 'A', p.series, p.value, p.stats, 'n/a', 'only in A'));
  for (const p of mine(diff.added)) rows.push(row(diff, 'B', p.series, p.value, p.stats, 'n/a', 'only in B'));
  return rows
    .filter((r): r is OverlayRow => r !== null)
    .sort((x, y) => x.side.localeCompare(y.side) || x.series.localeCompare(y.series) || x.x - y.x);
}

export function diffOverlayChart(diff: RunDiff, environment: string, test: TestName): TopLevelSpec {
  const rows = overlayRows(diff, environment, test);
  const a = runName(diff, 'a');
  const b = runName(diff, 'b');
  const parameter =
    [...diff.points, ...diff.added, ...diff.removed].find((p) => p.environment === environment && p.test === test)
      ?.parameter ?? 'sendSocketSize';
  const envColor = ENVIRONMENT_STYLE.get(environment)?.color ?? '#E69F00';
  const runScale = { domain: ['A', 'B'], range: [BASELINE_COLOR, envColor] };
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title:
      (Object.hasOwn(PARAMETER_AXIS_TITLE, parameter) ? PARAMETER_AXIS_TITLE[parameter as Parameter] : undefined) ??
      parameter,
  };
  // One legend, drawn as the lines (colour and dash, full opacity whatever layer it merges from).
  // Encoded by side, labelled with the runs' names from params: the names stay out of the spec's
  // structure, so every overlay of an environment and test shares one compiled template.
  const legend = {
    symbolType: 'stroke',
    symbolStrokeWidth: 2,
    symbolOpacity: 1,
    labelLimit: 480,
    labelExpr: `datum.value === 'A' ? ${RUN_A_PARAM} : ${RUN_B_PARAM}`,
  };
  const color = { field: 'side', type: 'nominal' as const, title: 'Run', scale: runScale, legend };
  const y = { field: 'mean', type: 'quantitative' as const, title: 'Throughput (10^6 bits/s)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${environmentTitle(environment)}, ${test}: A vs B`,
      subtitle: [
        `A = ${diff.a.label} (run ${diff.a.runId}), B = ${diff.b.label} (run ${diff.b.runId})`,
        'bands: 95% CI of the mean; rings: regressed (vermilion) / improved (green) in B',
      ],
    },
    width: 560,
    height: 300,
    data: { values: rows },
    params: [
      { name: RUN_A_PARAM, value: a },
      { name: RUN_B_PARAM, value: b },
    ],
    config: CHART_CONFIG,
    encoding: { x, detail: { field: 'series', type: 'nominal' as const } },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          y,
          color,
          strokeDash: {
            field: 'side',
            type: 'nominal' as const,
            scale: {
              domain: ['A', 'B'],
              range: [
                [6, 3],
                [1, 0],
              ],
            },
            title: 'Run',
            legend,
          },
        },
      },
      {
        // Drawn after the lines so the legend shows the lines' dashes; translucent, so lines show through.
        mark: { type: 'area', opacity: 0.15, line: false },
        encoding: { y: { field: 'low', type: 'quantitative' as const, title: y.title }, y2: { field: 'high' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 30 },
        encoding: {
          y,
          color,
          tooltip: [
            { field: 'run', title: 'Run' },
            { field: 'series', title: 'Series' },
            { field: 'x', title: x.title },
            { field: 'mean', title: 'Mean (10^6 bits/s)' },
            { field: 'low', title: '95% CI low' },
            { field: 'high', title: '95% CI high' },
            { field: 'n', title: 'Replicates' },
            { field: 'change', title: 'Change B vs A' },
            { field: 'verdict', title: 'Verdict' },
          ],
        },
      },
      // Ring B's points that regressed or improved, so a reader finds them without the table.
      ...(['regressed', 'improved'] as const).map((verdict) => ({
        transform: [
          {
            filter: {
              and: [
                { field: 'side', equal: 'B' },
                { field: 'verdict', equal: verdict },
              ],
            },
          },
        ],
        mark: { type: 'point' as const, filled: false, size: 160, strokeWidth: 2, color: MARK_COLOR[verdict] },
        encoding: { y, color: { value: MARK_COLOR[verdict]! } },
      })),
    ],
  } as TopLevelSpec;
}

/** An environment and test of either run: its overlay, or which run alone has points to draw. */
export interface DiffGroup {
  environment: string;
  test: TestName;
  /** The A-vs-B overlay; null when only one run has points to draw (nothing to overlay). */
  chart: DiffChartEntry | null;
  /** With no chart: the run that has the points ('A' or 'B'), or null when neither has any. */
  onlyIn: 'A' | 'B' | null;
}

/** Every environment and test present in either run, in the diff's order. */
export function diffGroups(diff: RunDiff): DiffGroup[] {
  const seen = new Set<string>();
  const out: DiffGroup[] = [];
  for (const c of diff.curves) {
    const key = `${c.environment}|${c.test}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const sides = new Set(overlayRows(diff, c.environment, c.test).map((r) => r.side));
    if (sides.size < 2) {
      out.push({
        environment: c.environment,
        test: c.test,
        chart: null,
        onlyIn: sides.has('A') ? 'A' : sides.has('B') ? 'B' : null,
      });
      continue;
    }
    // The environment's name is outside text: it names files only through fileNamePart.
    const id = `diff-${fileNamePart(c.environment)}-${fileNamePart(c.test.toLowerCase().replace(/_/g, '-'))}`;
    const chart = {
      id,
      title: `${environmentTitle(c.environment)}, ${c.test}: A vs B`,
      environment: c.environment,
      test: c.test,
      spec: diffOverlayChart(diff, c.environment, c.test),
    };
    out.push({ environment: c.environment, test: c.test, chart, onlyIn: null });
  }
  return out;
}

/**
 * One overlay per environment and test that both runs have points of. An environment or test in
 * one run only has nothing to overlay: its points are listed as added or removed, and its curve is
 * on that run's own page.
 */
export function diffCharts(diff: RunDiff): DiffChartEntry[] {
  return groupCharts(diffGroups(diff));
}

export function groupCharts(groups: readonly DiffGroup[]): DiffChartEntry[] {
  return groups.flatMap((g) => (g.chart ? [g.chart] : []));
}
