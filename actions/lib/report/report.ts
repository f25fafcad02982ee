// A run's analysis (analyse/run.ts) -> its report files (Vega-Lite specs beside their SVGs, the data
// as CSV, the claims' verdicts, Tables 2 and 3). Pure but for rendering, which is deterministic: the same run
// gives byte-identical files.

import type { TopLevelSpec } from 'vega-lite';
import type { PointSummary } from '../analyse/aggregate.ts';
import { comparePoints, type RelativePoint, type UdpDelivery } from '../analyse/analysis.ts';
import { analyseRun, RESTRICTED_RANGE, type RunAnalysis } from '../analyse/run.ts';
import {
  cpuCostFigure,
  figureContext,
  okRateFigure,
  restrictedAverageFigure,
  signedAreaFigure,
  socketSizeFigure,
  tcpAbsoluteFigure,
  tcpEffectiveSizeFigure,
  tcpRelativeFigure,
  udpAbsoluteFigure,
  udpRelativeFigure,
  udpXTitle,
} from './charts/figures.ts';
import {
  countsLine,
  scopeMarkdown,
  verdictLabel,
  type ClaimResult,
  type ClaimsScope,
} from '../analyse/claims/judge.ts';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import type { Manifest, MeasurementRecord, RttProbeRecord } from '../measure/records.ts';
import type { TestName } from '../plan/plan.ts';
import { roundTripFigure, withWindowModel } from './charts/round-trip.ts';
import { renderSvg } from './render.ts';
import { fileNamePart } from '../core/file-names.ts';
import { csvLine, type CsvValue, mdText } from '../core/escape.ts';
import { linkSummary, tableMarkdown } from '../analyse/tables.ts';

export interface ReportFile {
  path: string;
  content: string;
}

export interface ChartEntry {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Every figure the run's data allows, in the paper's order. */
export function runCharts(manifest: Manifest, a: RunAnalysis): ChartEntry[] {
  const ctx = figureContext(manifest, a.environments);
  const charts: ChartEntry[] = [];
  const tcpSeries = manifest.plan.sweeps
    .filter((s) => s.test === 'TCP_STREAM')
    .map((s) => s.series)
    .filter((s) => a.points.some((p) => p.series === s));
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const groups: (string[] | null)[] = tcpSeries.map((s) => [s]);
  if (tcpSeries.length > 1) groups.push(null);
  groups.forEach((series, i) => {
    // The series is outside text (the plan's): it names files only through fileNamePart.
    const id = series ? fileNamePart(series[0]!) : 'all';
    const abs = `4${letters[2 * i]}`;
    const rel = `4${letters[2 * i + 1]}`;
    const model = a.windowModel.filter((r) => !series || series.includes(r.series));
    charts.push({
      id: `fig${abs}-tcp-absolute-${id}`,
      title: `Fig. ${abs}: TCP absolute throughput (${series ? series[0] : 'all series'})`,
      spec: withWindowModel(tcpAbsoluteFigure(a.points, series, abs, ctx), model, ctx, a.capacityMbit),
    });
    if (a.relative.some((r) => r.test === 'TCP_STREAM' && (!series || series.includes(r.series)))) {
      charts.push({
        id: `fig${rel}-tcp-relative-${id}`,
        title: `Fig. ${rel}: TCP throughput relative to native (${series ? series[0] : 'all series'})`,
        spec: tcpRelativeFigure(a.relative, a.points, series, rel, ctx),
      });
    }
  });
  // Each sweep's CPU cost, beside its throughput: TCP's after the TCP charts, UDP's after UDP's.
  const cpuCharts = (test: TestName) =>
    manifest.plan.sweeps
      .filter((s) => s.test === test)
      .flatMap((s) => {
        const spec = cpuCostFigure(a.points, test, s.series, ctx);
        return spec === null
          ? []
          : [
              {
                id: `cpu-${test === 'TCP_STREAM' ? 'tcp' : 'udp'}-${fileNamePart(s.series)}`,
                title: `CPU cost per gigabyte: ${test} (${s.series})`,
                spec,
              },
            ];
      });
  charts.push(...cpuCharts('TCP_STREAM'));
  if (
    a.points.some(
      (p) =>
        p.test === 'TCP_STREAM' &&
        p.parameter === 'sendSocketSize' &&
        p.throughput.n > 0 &&
        p.effectiveSendSocket !== null,
    )
  ) {
    charts.push({
      id: 'fig4-tcp-absolute-effective-size',
      title: 'Fig. 4 (effective size): TCP absolute throughput vs the send socket size the kernel gave',
      spec: withWindowModel(
        tcpEffectiveSizeFigure(a.points, '4 (effective size)', ctx),
        a.windowModel.map((r) => ({ ...r, x: r.window })),
        ctx,
        a.capacityMbit,
      ),
    });
  }
  if (a.averages.length > 0)
    charts.push({
      id: 'fig5-tcp-average-relative',
      title: 'Fig. 5/7: average relative TCP throughput, 0-6000 B',
      spec: restrictedAverageFigure(a.averages, ctx),
    });
  if (a.areas.length > 0)
    charts.push({
      id: 'tcp-signed-area',
      title: 'Signed area vs native, 0-6000 B',
      spec: signedAreaFigure(a.areas, ctx),
    });
  if (a.points.some((p) => p.test === 'UDP_STREAM' && p.throughput.n > 0)) {
    charts.push({
      id: 'fig6a-udp-absolute',
      title: 'Fig. 6a: UDP absolute throughput',
      spec: udpAbsoluteFigure(a.points, ctx),
    });
    if (a.relative.some((r) => r.test === 'UDP_STREAM'))
      charts.push({
        id: 'fig6b-udp-relative',
        title: 'Fig. 6b: UDP throughput relative to native',
        spec: udpRelativeFigure(a.relative, a.points, ctx),
      });
  }
  charts.push(...cpuCharts('UDP_STREAM'));
  if (a.delivery.length > 0)
    charts.push({
      id: 'fig7-udp-okay-rate',
      title: 'Fig. 7: UDP okay rate',
      spec: okRateFigure(a.delivery, ctx, udpXTitle(a.points)),
    });
  if (a.probes.some((p) => p.status === 'ok'))
    charts.push({
      id: 'round-trip-time',
      title: 'Round-trip time per environment (TCP_RR, UDP_RR)',
      spec: roundTripFigure(a.probes, ctx),
    });
  if (a.sockets.length > 0)
    charts.push({
      id: 'socket-size-effective',
      title: 'Requested vs effective send socket size',
      spec: socketSizeFigure(a.sockets, ctx),
    });
  const ids = new Set<string>();
  for (const c of charts) {
    if (ids.has(c.id))
      throw new Error(
        `two charts of run ${manifest.runId} would share the file name ${c.id}: rename a series of its plan`,
      );
    ids.add(c.id);
  }
  return charts;
}

// Every cell of every CSV goes through csvLine (core/escape.ts): quoted when it must be, never a formula.
const cell = (v: number | null) => (v === null || Number.isNaN(v) ? '' : Math.round(v * 1e6) / 1e6);
const csvFile = (header: string, rows: readonly CsvValue[][]) => `${[header, ...rows.map(csvLine)].join('\n')}\n`;

export function pointsCsv(points: readonly PointSummary[]): string {
  const header =
    'environment,test,series,parameter,value,n,mean_mbps,stdev_mbps,ci95_low,ci95_high,failed,confidence_missed,requested_send_socket,effective_send_socket,send_calls,recv_calls,ok_rate,cpu_n,cpu_server_s_per_gb,cpu_ci95_low,cpu_ci95_high,cpu_client_s_per_gb';
  return csvFile(
    header,
    points.map((p) => [
      p.environment,
      p.test,
      p.series,
      p.parameter,
      p.value,
      p.throughput.n,
      cell(p.throughput.mean),
      cell(p.throughput.stdev),
      cell(p.throughput.ciLow),
      cell(p.throughput.ciHigh),
      p.failed,
      p.confidenceAsked ? p.confidenceMissed : '',
      cell(p.requestedSendSocket),
      cell(p.effectiveSendSocket),
      p.sendCalls,
      p.recvCalls,
      cell(p.okRate),
      // The CPU cost's columns stay empty for a point (or a run) that recorded none.
      p.cpuPerGigabyte?.summary.n ?? '',
      cell(p.cpuPerGigabyte?.summary.mean ?? null),
      cell(p.cpuPerGigabyte?.summary.ciLow ?? null),
      cell(p.cpuPerGigabyte?.summary.ciHigh ?? null),
      cell(p.cpuPerGigabyte?.clientMean ?? null),
    ]),
  );
}

export function relativeCsv(relative: readonly RelativePoint[]): string {
  return csvFile(
    'environment,test,series,value,relative,ci95_low,ci95_high',
    relative.map((r) => [r.environment, r.test, r.series, r.x, cell(r.relative), cell(r.low), cell(r.high)]),
  );
}

export function udpCsv(delivery: readonly UdpDelivery[]): string {
  return csvFile(
    'environment,message_size,messages_sent,messages_received,ok_rate,messages_lost,loss_rate',
    delivery.map((d) => [d.environment, d.x, d.sent, d.received, cell(d.okRate), d.lost, cell(d.lossRate)]),
  );
}

/** One line per round-trip probe: which start, what it measured (latencies in microseconds). */
export function probesCsv(probes: readonly RttProbeRecord[]): string {
  const header =
    'environment,test,session,block,started_at,status,transactions_per_s,mean_latency_us,stdev_latency_us,p50_latency_us,p99_latency_us,error';
  return csvFile(
    header,
    probes.map((p) => [
      p.environment,
      p.test,
      p.session,
      p.block ?? '',
      p.startedAt,
      p.status,
      cell(p.metrics?.transactionsPerSecond ?? null),
      cell(p.metrics?.meanLatencyMicroseconds ?? null),
      cell(p.metrics?.stddevLatencyMicroseconds ?? null),
      cell(p.metrics?.p50LatencyMicroseconds ?? null),
      cell(p.metrics?.p99LatencyMicroseconds ?? null),
      p.error ?? '',
    ]),
  );
}

/** Every pair of environments at every shared point: difference of means and Welch's test. */
export function comparisonsCsv(a: RunAnalysis): string {
  const header = 'test,value,a,b,mean_a,mean_b,difference,welch_t,welch_df,welch_p,note';
  const rows: CsvValue[][] = [];
  for (const test of ['TCP_STREAM', 'UDP_STREAM'] as const) {
    a.environments.forEach((ea, i) => {
      for (const eb of a.environments.slice(i + 1)) {
        for (const c of comparePoints(a.points, test, ea, eb))
          rows.push([
            test,
            c.x,
            ea,
            eb,
            cell(c.meanA),
            cell(c.meanB),
            cell(c.difference),
            cell(c.welch.t),
            cell(c.welch.df),
            cell(c.welch.p),
            c.welch.note ?? '',
          ]);
      }
    });
  }
  return csvFile(header, rows);
}

/** The claims table in Markdown, opened by what the run can and cannot test; each verdict with its conditions. */
export function claimsMarkdown(claims: readonly ClaimResult[], scope?: ClaimsScope): string {
  const row = (c: ClaimResult) => {
    const limits = c.limits.length ? ` **What this testbed cannot show:** ${mdText(c.limits.join(' '))}` : '';
    return `| ${mdText(c.text)} | ${mdText(c.section)} | **${mdText(verdictLabel(c))}** | ${mdText(c.finding)}${limits} **Evidence:** ${mdText(c.evidence)} **Judged under:** ${mdText(c.conditions)}. |`;
  };
  const table = [
    `**Verdicts:** ${countsLine(claims)}.`,
    '',
    '| Claim | Section | Verdict | Finding and evidence |',
    '|---|---|---|---|',
    ...claims.map(row),
    '',
  ];
  return [...(scope ? [scopeMarkdown(scope)] : []), ...table].join('\n');
}

/** The report's text files (no SVG): CSV, analysis JSON, tables and claims in Markdown, chart specs. */
export function reportTextFiles(manifest: Manifest, a: RunAnalysis, charts: readonly ChartEntry[]): ReportFile[] {
  const summary = {
    runId: manifest.runId,
    environments: a.environments,
    udpAnomalies: a.udpAnomalies,
    restrictedRange: RESTRICTED_RANGE,
    averages: a.averages,
    areas: a.areas,
    precision: a.precision,
    scope: a.scope,
    claims: a.claims,
    link: linkSummary(manifest),
  };
  const files: ReportFile[] = [
    { path: 'points.csv', content: pointsCsv(a.points) },
    { path: 'relative.csv', content: relativeCsv(a.relative) },
    { path: 'comparisons.csv', content: comparisonsCsv(a) },
    { path: 'udp.csv', content: udpCsv(a.delivery) },
    ...(a.probes.length > 0 ? [{ path: 'round-trips.csv', content: probesCsv(a.probes) }] : []),
    { path: 'analysis.json', content: `${JSON.stringify(summary, null, 2)}\n` },
    { path: 'claims.md', content: claimsMarkdown(a.claims, a.scope) },
    {
      path: 'tables.md',
      content: `Link: ${mdText(linkSummary(manifest))}\n\n${a.tables.map(tableMarkdown).join('\n')}`,
    },
  ];
  for (const chart of charts)
    files.push({ path: `charts/${chart.id}.vl.json`, content: `${JSON.stringify(chart.spec, null, 2)}\n` });
  return files;
}

export type SvgRenderer = (spec: TopLevelSpec) => Promise<string>;

export async function buildReportFiles(
  manifest: Manifest,
  records: readonly MeasurementRecord[],
  claimsFile: ClaimsFile,
  render: SvgRenderer = renderSvg,
  probes: readonly RttProbeRecord[] = [],
): Promise<ReportFile[]> {
  const analysis = analyseRun(manifest, records, claimsFile, probes);
  const charts = runCharts(manifest, analysis);
  const files = reportTextFiles(manifest, analysis, charts);
  for (const chart of charts) files.push({ path: `charts/${chart.id}.svg`, content: await render(chart.spec) });
  return files;
}
