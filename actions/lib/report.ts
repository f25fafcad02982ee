// A run -> its report files (Vega-Lite specs, their SVGs, the data as CSV). Pure but for rendering,
// which is deterministic: the same run gives byte-identical files.

import type { TopLevelSpec } from 'vega-lite';
import { summarizePoints, type PointSummary } from './aggregate.ts';
import { throughputChart } from './charts/throughput.ts';
import type { Manifest, MeasurementRecord } from './records.ts';
import { renderSvg } from './render.ts';

export interface ReportFile {
  path: string;
  content: string;
}

export interface ChartEntry {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

export function runCharts(manifest: Manifest, points: readonly PointSummary[]): ChartEntry[] {
  const subtitle = `run ${manifest.runId}, plan ${manifest.plan.name}`;
  const charts: ChartEntry[] = [];
  if (points.some((p) => p.test === 'TCP_STREAM')) {
    charts.push({ id: 'tcp-absolute', title: 'TCP_STREAM throughput vs send socket size', spec: throughputChart(points, { test: 'TCP_STREAM', title: 'TCP_STREAM throughput vs send socket size (Fig. 4e)', subtitle }) });
  }
  if (points.some((p) => p.test === 'UDP_STREAM')) {
    charts.push({ id: 'udp-absolute', title: 'UDP_STREAM throughput vs message size', spec: throughputChart(points, { test: 'UDP_STREAM', title: 'UDP_STREAM throughput vs message size (Fig. 6a)', subtitle }) });
  }
  return charts;
}

export function pointsCsv(points: readonly PointSummary[]): string {
  const header = 'environment,test,series,parameter,value,n,mean_mbps,stdev_mbps,ci95_low,ci95_high,failed,requested_send_socket,effective_send_socket,ok_rate';
  const cell = (v: number | null) => (v === null || Number.isNaN(v) ? '' : String(Math.round(v * 1e6) / 1e6));
  const lines = points.map((p) => [p.environment, p.test, p.series, p.parameter, p.value, p.throughput.n, cell(p.throughput.mean), cell(p.throughput.stdev), cell(p.throughput.ciLow), cell(p.throughput.ciHigh), p.failed, cell(p.requestedSendSocket), cell(p.effectiveSendSocket), cell(p.okRate)].join(','));
  return `${[header, ...lines].join('\n')}\n`;
}

export async function buildReportFiles(manifest: Manifest, records: readonly MeasurementRecord[]): Promise<ReportFile[]> {
  const points = summarizePoints(records);
  const files: ReportFile[] = [{ path: 'points.csv', content: pointsCsv(points) }];
  for (const chart of runCharts(manifest, points)) {
    files.push({ path: `charts/${chart.id}.vl.json`, content: `${JSON.stringify(chart.spec, null, 2)}\n` });
    files.push({ path: `charts/${chart.id}.svg`, content: await renderSvg(chart.spec) });
  }
  return files;
}
