// The history of the headline metrics (analyse/headline.ts) over the site's runs: one chart per
// metric with a series per environment, runs ordered by time, interval bands, each point a link to
// its run page, and the points where the diff of two consecutive comparable runs (same plan, same
// testbed: runner pair or embedded link) found a significant change marked. Pure: no I/O, no clock.
//
// Runs are ordered by their manifest's createdAt (ties by run id): manifests do not record the
// commit's own time, and a run is made from the commit checked out when it starts.
//
// The charts are plain SVG written here, not Vega-Lite: a site of a thousand runs redraws its
// history on every build, and a drawn string costs microseconds where a rendered Vega view costs
// a tenth of a second; the points are real links that work without scripts. A series (one
// environment on one plan and testbed) is its own <g> with data-plan, data-pair and data-testbed,
// so the filters (site.js) hide what does not match; lines join only runs of the same series.

import { html, safeHref, type SafeHtml } from '../core/html.ts';
import {
  HEADLINE_METRICS,
  METRIC_INFO,
  plateauFrom,
  type Headline,
  type HeadlineMetric,
  type HeadlineValue,
} from '../analyse/headline.ts';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import { verdictLabel } from '../analyse/claims/judge.ts';
import type { RunDiff } from '../diff/diff.ts';
import type { Manifest } from '../measure/records.ts';
import { environmentScales } from '../report/charts/style.ts';
import { environmentTitle, orderedEnvironments } from '../analyse/environment-names.ts';
import { link, NO_PAIR, runPagePath, testbedOf, type SitePage } from './site.ts';

export { NO_PAIR, testbedOf };

/** What the history needs of one run (kept in the site's cache: small, and JSON). */
export interface HistoryRun {
  runId: string;
  createdAt: string;
  plan: string;
  /** The runner pair's name; null on the embedded testbed and in runs before pairs. */
  pair: string | null;
  /** testbedOf(manifest). */
  testbed: string;
  headline: Headline;
}

/** A significant change a diff found at one run, per environment and metric. */
export interface HistoryMark {
  /** The later run (B) of the diff, where the change shows. */
  runId: string;
  /** The earlier run (A). */
  against: string;
  environment: string;
  metric: HeadlineMetric;
  regressed: boolean;
  improved: boolean;
  /** The diff page, relative to the site's root. */
  diffPath: string;
}

export function historyRun(m: Manifest, headline: Headline): HistoryRun {
  return {
    runId: m.runId,
    createdAt: m.createdAt,
    plan: m.plan?.name ?? '?',
    pair: m.runnerPair ?? null,
    testbed: testbedOf(m),
    headline,
  };
}

/** Runs whose diffs the history marks: same plan and same testbed. */
export function comparable(a: Pick<HistoryRun, 'plan' | 'testbed'>, b: Pick<HistoryRun, 'plan' | 'testbed'>): boolean {
  return a.plan === b.plan && a.testbed === b.testbed;
}

/**
 * The marks of one diff: for each environment and metric made of throughput points (or of their CPU
 * cost), whether the diff classified any point in the metric's range as regressed or improved (the diff stage decides
 * significance; nothing is re-tested here). The round-trip time is not diffed, so never marked.
 */
export function diffMarks(diff: RunDiff, diffPath: string): HistoryMark[] {
  const out: HistoryMark[] = [];
  const environments = [...new Set(diff.points.map((p) => p.environment))].sort();
  for (const environment of environments) {
    const mine = diff.points.filter((p) => p.environment === environment);
    const plateau = plateauFrom(mine);
    for (const metric of HEADLINE_METRICS) {
      const info = METRIC_INFO[metric];
      if (info.test === null) continue;
      const from = metric === 'tcp-plateau' ? (plateau ?? Number.POSITIVE_INFINITY) : info.from;
      const inRange = mine.filter((p) => p.test === info.test && p.value >= from && p.value <= info.to);
      // A CPU metric moves with the points' CPU cost (lower is better), the others with their throughput.
      const classified = inRange.map((p) => (info.cpu ? p.cpu?.classification : p.classification));
      const regressed = classified.includes('regressed');
      const improved = classified.includes('improved');
      if (regressed || improved)
        out.push({ runId: diff.b.runId, against: diff.a.runId, environment, metric, regressed, improved, diffPath });
    }
  }
  return out;
}

/** Environments in the paper's order, then any others by name. */
export function orderEnvironments(names: Iterable<string>): string[] {
  return orderedEnvironments([...new Set(names)]);
}

export function byTime(a: Pick<HistoryRun, 'createdAt' | 'runId'>, b: Pick<HistoryRun, 'createdAt' | 'runId'>): number {
  return a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId);
}

export interface SeriesPoint {
  runId: string;
  /** Position of the run among all runs, oldest 0. */
  index: number;
  /** When the run was made (its manifest's createdAt), in ms since the epoch: the x axis. */
  at: number;
  value: HeadlineValue;
  mark: HistoryMark | null;
}

export interface Series {
  environment: string;
  plan: string;
  pair: string | null;
  testbed: string;
  points: SeriesPoint[];
}

export interface MetricHistory {
  metric: HeadlineMetric;
  runs: number;
  /** The oldest and newest run's time (ms since the epoch): the x axis' ends. */
  from: number;
  to: number;
  series: Series[];
}

/** One metric's series over the runs: one per environment, plan and testbed, in time order. */
export function metricHistory(
  runs: readonly HistoryRun[],
  marks: readonly HistoryMark[],
  metric: HeadlineMetric,
): MetricHistory {
  const ordered = [...runs].sort(byTime);
  const markAt = new Map<string, HistoryMark>();
  for (const m of marks) if (m.metric === metric) markAt.set(`${m.runId}\n${m.environment}`, m);
  const series = new Map<string, Series>();
  ordered.forEach((run, index) => {
    for (const { environment, metrics } of run.headline) {
      const value = metrics[metric];
      if (!value) continue;
      const key = JSON.stringify([environment, run.plan, run.testbed]);
      let s = series.get(key);
      if (!s) series.set(key, (s = { environment, plan: run.plan, pair: run.pair, testbed: run.testbed, points: [] }));
      s.points.push({
        runId: run.runId,
        index,
        at: timeOf(run),
        value,
        mark: markAt.get(`${run.runId}\n${environment}`) ?? null,
      });
    }
  });
  const order = orderEnvironments([...series.values()].map((s) => s.environment));
  const rank = new Map(order.map((e, i) => [e, i]));
  const sorted = [...series.values()].sort(
    (a, b) =>
      rank.get(a.environment)! - rank.get(b.environment)! ||
      a.plan.localeCompare(b.plan) ||
      a.testbed.localeCompare(b.testbed),
  );
  const times = ordered.map(timeOf);
  return {
    metric,
    runs: ordered.length,
    from: times.length ? Math.min(...times) : 0,
    to: times.length ? Math.max(...times) : 0,
    series: sorted,
  };
}

/** A run's createdAt as ms since the epoch; 0 for a date that does not parse (drawn at the left edge). */
function timeOf(run: Pick<HistoryRun, 'createdAt'>): number {
  const t = Date.parse(run.createdAt);
  return Number.isFinite(t) ? t : 0;
}

const DAY = 86_400_000;

/** Up to `count` dates spread over [from, to] with their labels: days (UTC), or hours when the runs span under two days. */
export function dateTicks(from: number, to: number, count: number): { at: number; label: string }[] {
  const label = (t: number) => {
    const iso = new Date(t).toISOString();
    return to - from < 2 * DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
  };
  if (!(to > from)) return [{ at: from, label: label(from) }];
  return Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1)).map((at) => ({
    at,
    label: label(at),
  }));
}

// ---------------------------------------------------------------- drawing

export interface ChartSize {
  width: number;
  height: number;
  /** Points are links to their run pages (the history pages); the overview's are not (it links to the history page). */
  pointLinks: boolean;
}

/** The overview draws a series' dots only when it has fewer points than this. */
export const OVERVIEW_DOTS_BELOW = 60;

export const OVERVIEW_SIZE: ChartSize = { width: 320, height: 150, pointLinks: false };
export const HISTORY_SIZE: ChartSize = { width: 900, height: 340, pointLinks: true };

const n = (v: number) => (Math.round(v * 10) / 10).toString();

/** Up to about five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9 && out.length < 12; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function format(v: number, metric: HeadlineMetric): string {
  if (metric === 'udp-ok' || metric === 'relative') return v.toFixed(3);
  if (metric === 'rtt') return `${v.toFixed(0)} us`;
  return v.toFixed(2);
}

function valueText(v: HeadlineValue, metric: HeadlineMetric): string {
  return v.low === null || v.high === null
    ? `${format(v.value, metric)} (no interval)`
    : `${format(v.value, metric)} [${format(v.low, metric)}, ${format(v.high, metric)}]`;
}

/** The chart of one metric as inline SVG. `root`: the path from the page to the site's root ('' or '../'). */
export function historySvg(h: MetricHistory, size: ChartSize, root: string): SafeHtml {
  const { width, height } = size;
  const left = 52;
  const right = 8;
  const top = 8;
  const bottom = 22;
  const values = h.series.flatMap((s) =>
    s.points.flatMap((p) => [p.value.value, p.value.low ?? p.value.value, p.value.high ?? p.value.value]),
  );
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi === lo) [lo, hi] = [lo - Math.abs(lo) * 0.05 - 0.5, hi + Math.abs(hi) * 0.05 + 0.5];
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  // x is the run's date: runs made close together sit close together, and a gap of weeks shows.
  const x = (at: number) => left + (h.to > h.from ? ((at - h.from) / (h.to - h.from)) * plotW : plotW / 2);
  const y = (v: number) => top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const scales = environmentScales(orderEnvironments(h.series.map((s) => s.environment)));
  const order = orderEnvironments(h.series.map((s) => s.environment));
  const colour = (env: string) => scales.color.range[order.indexOf(env)] ?? '#777777';
  const grid = ticks(lo, hi).map(
    (t) =>
      html`<line class="grid" x1="${n(left)}" x2="${n(width - right)}" y1="${n(y(t))}" y2="${n(y(t))}"></line><text class="tick" x="${n(left - 4)}" y="${n(y(t) + 4)}" text-anchor="end">${format(t, h.metric).replace(/ us$/, '')}</text>`,
  );
  const series = h.series.map((s) => {
    const c = colour(s.environment);
    // Bands: one polygon per stretch of consecutive points that all have an interval.
    const stretches: SeriesPoint[][] = [];
    let current: SeriesPoint[] = [];
    for (const p of s.points) {
      if (p.value.low !== null && p.value.high !== null) current.push(p);
      else if (current.length) {
        stretches.push(current);
        current = [];
      }
    }
    if (current.length) stretches.push(current);
    const bands = stretches.map((st) => {
      const upper = st.map((p) => `${n(x(p.at))},${n(y(p.value.high!))}`);
      const lower = [...st].reverse().map((p) => `${n(x(p.at))},${n(y(p.value.low!))}`);
      // A single point's band is a short bar, so it still shows.
      return st.length === 1
        ? html`<line class="band-bar" x1="${n(x(st[0]!.at))}" x2="${n(x(st[0]!.at))}" y1="${n(y(st[0]!.value.low!))}" y2="${n(y(st[0]!.value.high!))}" stroke="${c}"></line>`
        : html`<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${c}"></polygon>`;
    });
    const line =
      s.points.length > 1
        ? html`<polyline class="line" points="${s.points.map((p) => `${n(x(p.at))},${n(y(p.value.value))}`).join(' ')}" stroke="${c}"></polyline>`
        : null;
    const marks = s.points
      .filter((p) => p.mark)
      .map((p) => {
        const m = p.mark!;
        const kind = m.regressed && m.improved ? 'both' : m.regressed ? 'regressed' : 'improved';
        const cx = x(p.at);
        const cy = y(p.value.value);
        const shape = m.regressed
          ? `${n(cx - 6)},${n(cy - 5)} ${n(cx + 6)},${n(cy - 5)} ${n(cx)},${n(cy + 7)}`
          : `${n(cx - 6)},${n(cy + 5)} ${n(cx + 6)},${n(cy + 5)} ${n(cx)},${n(cy - 7)}`;
        const title = `${kind === 'both' ? 'significant regression and improvement' : kind === 'regressed' ? 'significant regression' : 'significant improvement'} against ${m.against} (diff)`;
        const poly = html`<polygon class="mark mark-${kind}" data-run="${p.runId}" points="${shape}"><title>${title}</title></polygon>`;
        return size.pointLinks ? html`<a href="${safeHref(`${root}${m.diffPath}`)}">${poly}</a>` : poly;
      });
    // The overview draws the dots of short series only (without titles): a thousand runs' dots are
    // for the history pages, where they are links.
    const dots =
      !size.pointLinks && s.points.length >= OVERVIEW_DOTS_BELOW
        ? []
        : s.points.map((p) => {
            if (!size.pointLinks)
              return html`<circle class="point" cx="${n(x(p.at))}" cy="${n(y(p.value.value))}" r="1.8" fill="${c}"></circle>`;
            const title = `${p.runId} · ${environmentTitle(s.environment)} · ${valueText(p.value, h.metric)}`;
            const dot = html`<circle class="point" data-run="${p.runId}" cx="${n(x(p.at))}" cy="${n(y(p.value.value))}" r="${size.pointLinks ? 3.5 : 1.8}" fill="${c}"><title>${title}</title></circle>`;
            return size.pointLinks
              ? html`<a class="point-link" href="${safeHref(`${root}${runPagePath(p.runId)}`)}">${dot}</a>`
              : dot;
          });
    return html`<g class="series" data-env="${s.environment}" data-plan="${s.plan}" data-pair="${s.pair ?? NO_PAIR}" data-testbed="${s.testbed}">${bands}${line}${dots}${marks}</g>`;
  });
  const info = METRIC_INFO[h.metric];
  // Date labels under the plot: first and last anchored inside it; on the overview only those two.
  const marks = dateTicks(h.from, h.to, size.pointLinks ? 5 : 2);
  const dates =
    h.runs === 0
      ? null
      : marks.map((t, i) => {
          const anchor = marks.length === 1 ? 'middle' : i === 0 ? 'start' : i === marks.length - 1 ? 'end' : 'middle';
          return html`<text class="tick date" x="${n(marks.length === 1 ? left + plotW / 2 : x(t.at))}" y="${n(height - 6)}" text-anchor="${anchor}">${t.label}</text>`;
        });
  const empty =
    h.series.length === 0
      ? html`<text class="empty" x="${n(left + plotW / 2)}" y="${n(top + plotH / 2)}" text-anchor="middle">no run measured this</text>`
      : null;
  return html`<svg class="history" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${info.title} over ${h.runs} runs"><rect class="frame" x="${left}" y="${top}" width="${plotW}" height="${plotH}"></rect>${grid}${dates}${series}${empty}</svg>`;
}

export function historyPagePath(metric: HeadlineMetric): string {
  return `history/${metric}.html`;
}

export interface FilterValues {
  plans: string[];
  pairs: string[];
  testbeds: string[];
}

export function filterValues(runs: readonly HistoryRun[]): FilterValues {
  const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
  return {
    plans: sorted(runs.map((r) => r.plan)),
    pairs: sorted(runs.map((r) => r.pair ?? NO_PAIR)),
    testbeds: sorted(runs.map((r) => r.testbed)),
  };
}

/** The filter form: site.js hides the series (and run-table rows) that do not match. */
export function filtersHtml(f: FilterValues): SafeHtml {
  const select = (name: string, label: string, values: readonly string[]) =>
    html`<label>${label} <select name="${name}" data-filter="${name}"><option value="">all</option>${values.map((v) => html`<option value="${v}">${v}</option>`)}</select></label>`;
  return html`<form class="history-filters" id="history-filters">${select('plan', 'Plan', f.plans)} ${select('pair', 'Runner pair', f.pairs)} ${select('testbed', 'Testbed', f.testbeds)}</form>\n`;
}

function legendHtml(runs: readonly HistoryRun[]): SafeHtml {
  const order = orderEnvironments(runs.flatMap((r) => r.headline.map((e) => e.environment)));
  const scales = environmentScales(order);
  return html`<p class="history-legend">${order.map((e, i) => html`<span class="legend-item"><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${scales.color.range[i] ?? '#777777'}"></rect></svg>${environmentTitle(e)}</span> `)}<span class="legend-item">▼ significant regression, ▲ significant improvement (diff with the previous comparable run)</span></p>\n`;
}

export interface HistoryData {
  runs: readonly HistoryRun[];
  marks: readonly HistoryMark[];
}

/** The index's overview: small multiples, one per metric, each linking to its history page. */
export function overviewHtml(data: HistoryData): SafeHtml {
  if (data.runs.length === 0) return html``;
  const charts = HEADLINE_METRICS.map((metric) => {
    const h = metricHistory(data.runs, data.marks, metric);
    return html`<figure class="overview-chart" id="overview-${metric}"><a class="overview-link" href="${safeHref(historyPagePath(metric))}">${historySvg(h, OVERVIEW_SIZE, '')}</a><figcaption>${link({ href: historyPagePath(metric), text: METRIC_INFO[metric].title })} (${METRIC_INFO[metric].unit})</figcaption></figure>\n`;
  });
  return html`<section class="overview" id="overview"><h2>History</h2>
${filtersHtml(filterValues(data.runs))}${legendHtml(data.runs)}<div class="small-multiples">
${charts}</div></section>
`;
}

/** One metric's history page. */
export function historyPage(data: HistoryData, metric: HeadlineMetric): SitePage {
  const h = metricHistory(data.runs, data.marks, metric);
  const info = METRIC_INFO[metric];
  const others = HEADLINE_METRICS.filter((m) => m !== metric).map((m) =>
    link({ href: `${m}.html`, text: METRIC_INFO[m].title }),
  );
  const body = html`<p>Each point is one run's value for one environment, with its 95% interval as a band; click a point for its run. Lines join runs of the same plan on the same testbed; triangles mark where the diff with the previous comparable run found a significant change in this metric's range (click one for the diff). Runs are ordered by when they were made.</p>
${filtersHtml(filterValues(data.runs))}${legendHtml(data.runs)}<figure class="history-chart" id="history-${metric}">${historySvg(h, HISTORY_SIZE, '../')}<figcaption>${info.title} (${info.unit})</figcaption></figure>
<p class="history-nav">Other metrics: ${others.map((l, i) => (i === 0 ? l : html` · ${l}`))}</p>
`;
  return {
    path: historyPagePath(metric),
    title: `History: ${info.title}`,
    banner: null,
    body,
    charts: [],
    script: true,
  };
}

// ---------------------------------------------------------------- pairs

export interface PairRun {
  runId: string;
  createdAt: string;
  plan: string;
  pair: string | null;
  testbed: string;
  claims: readonly Pick<ClaimResult, 'id' | 'text' | 'verdict' | 'qualifier'>[];
}

export const PAIRS_PATH = 'pairs.html';

/** Per plan, the latest run of each testbed (runner pair or embedded link) with the claims' verdicts side by side. */
export function pairsPage(runs: readonly PairRun[]): SitePage {
  const plans = [...new Set(runs.map((r) => r.plan))].sort();
  const sections = plans.map((plan) => {
    const latest = new Map<string, PairRun>();
    for (const r of [...runs].filter((r) => r.plan === plan).sort(byTime)) latest.set(r.testbed, r);
    const columns = [...latest.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
    const claimIds: { id: string; text: string }[] = [];
    const seen = new Set<string>();
    for (const r of columns)
      for (const c of r.claims)
        if (!seen.has(c.id)) {
          seen.add(c.id);
          claimIds.push({ id: c.id, text: c.text });
        }
    const head = html`<tr><th scope="col">Claim</th>${columns.map((r) => html`<th scope="col">${r.pair ?? r.testbed}<br>${link({ href: runPagePath(r.runId), text: r.runId })}<br><span class="when">${r.createdAt}</span></th>`)}</tr>`;
    const rows = claimIds.map(
      ({ id, text }) =>
        html`<tr><th scope="row">${text}</th>${columns.map((r) => {
          const c = r.claims.find((x) => x.id === id);
          return c
            ? html`<td class="verdict verdict-${c.verdict}">${verdictLabel(c)}</td>`
            : html`<td class="verdict">(not judged)</td>`;
        })}</tr>\n`,
    );
    return html`<h2>Plan ${plan}</h2>
<div class="scroll"><table class="pairs" data-plan="${plan}"><thead>${head}</thead>
<tbody>
${rows}</tbody></table></div>
`;
  });
  const body = html`<p>For each plan, the latest run on each runner pair (or testbed, for runs without a pair) with the paper's claims judged on it, side by side: the same claims, judged per pair.</p>
${runs.length ? sections : html`<p>No runs.</p>`}`;
  return { path: PAIRS_PATH, title: 'Runner pairs compared', banner: null, body, charts: [] };
}
