// Round-trip time charts: each environment's probes (TCP_RR, UDP_RR mean latency, one mark per
// probe, a bar at the median), and the window/RTT model drawn dashed onto a TCP absolute chart.
// Pure: data in, Vega-Lite spec out.

import type { TopLevelSpec } from 'vega-lite';
import type { WindowModelRow } from '../../analyse/window-model.ts';
import type { RttProbeRecord } from '../../measure/records.ts';
import { median } from '../../core/stats.ts';
import { own } from '../../core/own.ts';
import type { FigureContext } from './figures.ts';
import { CHART_CONFIG, environmentLabel, environmentScales } from './style.ts';
import { chartNotes, notesOf } from './lines.ts';

const round = (v: number) => Math.round(v * 1000) / 1000;
const LATENCY = 'Mean round-trip time per probe (microseconds)';

/** TCP_RR and UDP_RR mean latency per environment: one point per probe, a tick at the median. */
export function roundTripFigure(probes: readonly RttProbeRecord[], ctx: FigureContext): TopLevelSpec {
  const scales = environmentScales(ctx.environments, ctx.accelerators);
  const ok = probes.filter((p) => p.status === 'ok' && p.metrics !== null);
  const label = (e: string) => environmentLabel(e, own(ctx.accelerators, e));
  const values = ok.map((p) => ({
    environment: label(p.environment),
    test: p.test,
    kind: 'probe',
    y: round(p.metrics!.meanLatencyMicroseconds),
    stdev: round(p.metrics!.stddevLatencyMicroseconds),
    p99: p.metrics!.p99LatencyMicroseconds,
    transactions: round(p.metrics!.transactionsPerSecond),
    when: p.startedAt,
    start: p.block === null ? `session ${p.session}` : `session ${p.session}, block ${p.block}`,
  }));
  const medians: { environment: string; test: string; kind: string; y: number; probes: number }[] = [];
  for (const environment of new Set(ok.map((p) => p.environment))) {
    for (const test of ['TCP_RR', 'UDP_RR'] as const) {
      const ys = ok
        .filter((p) => p.environment === environment && p.test === test)
        .map((p) => p.metrics!.meanLatencyMicroseconds);
      if (ys.length > 0)
        medians.push({
          environment: label(environment),
          test,
          kind: 'median',
          y: round(median(ys)),
          probes: ys.length,
        });
    }
  }
  const failed = probes.length - ok.length;
  const x = { field: 'environment', type: 'nominal' as const, title: 'Environment', sort: scales.domain };
  const xOffset = { field: 'test', type: 'nominal' as const, title: 'Probe', sort: ['TCP_RR', 'UDP_RR'] };
  const color = {
    field: 'environment',
    type: 'nominal' as const,
    title: 'Environment',
    scale: scales.color,
    legend: null,
  };
  const y = { field: 'y', type: 'quantitative' as const, title: LATENCY, scale: { zero: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Round-trip time per environment: TCP_RR and UDP_RR mean latency at each start',
      subtitle: ctx.subtitle,
    },
    ...notesOf([
      `filled: TCP_RR, hollow: UDP_RR; one mark per probe (1-byte request and response), line: median${failed > 0 ? `; ${failed} failed probe(s) not drawn` : ''}`,
    ]),
    width: 360,
    height: 260,
    config: CHART_CONFIG,
    encoding: { x, xOffset, color },
    layer: [
      {
        data: { values: medians },
        mark: { type: 'tick', thickness: 2, aria: false },
        encoding: {
          y,
          tooltip: [
            { field: 'environment', title: 'Environment' },
            { field: 'test', title: 'Probe' },
            { field: 'y', title: 'Median of mean latency (us)' },
            { field: 'probes', title: 'Probes' },
          ],
        },
      },
      {
        data: { values },
        mark: { type: 'point', size: 50, aria: false },
        encoding: {
          y,
          fill: {
            condition: {
              test: "datum.test === 'TCP_RR'",
              field: 'environment',
              type: 'nominal',
              scale: scales.color,
              legend: null,
            },
            value: 'transparent',
          },
          tooltip: [
            { field: 'environment', title: 'Environment' },
            { field: 'test', title: 'Probe' },
            { field: 'y', title: 'Mean latency (us)' },
            { field: 'stdev', title: 'Stdev (us)' },
            { field: 'p99', title: 'p99 (us)' },
            { field: 'transactions', title: 'Transactions/s' },
            { field: 'start', title: 'Start' },
            { field: 'when', title: 'Started at' },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Adds the window/RTT model to a TCP absolute chart (charts/lines.ts lineChart): one dashed line
 * per environment (and series), in the environment's colour. The chart is returned unchanged when
 * there is no model to draw (no round-trip probes).
 */
export function withWindowModel(
  spec: TopLevelSpec,
  rows: readonly WindowModelRow[],
  ctx: FigureContext,
  capacityMbit: number | null,
): TopLevelSpec {
  if (rows.length === 0) return spec;
  const values = rows.map((r) => ({
    environment: environmentLabel(r.environment, own(ctx.accelerators, r.environment)),
    series: r.series,
    x: r.x,
    y: round(r.throughputMbps),
    window: r.window,
    rtt: r.roundTripMicroseconds,
  }));
  const cap = capacityMbit === null ? 'window / RTT' : `min(${round(capacityMbit)}, window / RTT)`;
  const layer = {
    data: { values },
    mark: { type: 'line', strokeDash: [3, 3], strokeWidth: 1.2, opacity: 0.8, aria: false },
    encoding: {
      y: { field: 'y', type: 'quantitative' },
      detail: { field: 'series', type: 'nominal' },
      tooltip: [
        { field: 'environment', title: 'Environment (model)' },
        { field: 'x', title: 'Send socket size requested (bytes)' },
        { field: 'window', title: 'Effective send socket size (bytes)' },
        { field: 'rtt', title: 'TCP_RR round-trip time (us)' },
        { field: 'y', title: `Model ${cap} (10^6 bits/s)` },
      ],
    },
  };
  const s = spec as unknown as { layer: unknown[] };
  const notes = [
    ...chartNotes(spec),
    `short dashes: model ${cap}, window = effective send socket size, RTT = median TCP_RR mean latency`,
  ];
  return { ...spec, ...notesOf(notes), layer: [...s.layer, layer] } as TopLevelSpec;
}
