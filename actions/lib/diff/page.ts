// The diff as a web page: the body HTML (runs, manifest differences first, one section per
// environment and test with its overlay chart, when both runs have points to overlay, and its
// tables; added/removed points, summary, claims) plus the chart specs it shows. Pure. A site embeds `bodyHtml` in its own layout and places each
// chart where the body has its <figure data-chart="ID"> (inline SVG or vega-embed); buildDiffFiles
// writes a standalone page with the SVGs inlined, for `virtnet diff --out` and CI artifacts.

import { type DiffChartEntry, diffCharts, diffGroups, groupCharts } from './overlay-chart.ts';
import { environmentTitle } from '../report/charts/style.ts';
import type { CurveDiff, PointDiff, RunDiff, RunRef } from './diff.ts';
import { formatChange, formatDiffJson, formatDiffMarkdown, formatDiffText, formatP } from './format.ts';
import { renderSvg } from '../report/render.ts';
import { escapeHtml } from '../core/html.ts';
import { PARAMETER_FLAG } from '../plan/plan.ts';

export interface DiffPage {
  /** The page's title; the body has no <h1> of its own (the site's layout prints the title). */
  title: string;
  bodyHtml: string;
  charts: DiffChartEntry[];
}

export interface DiffPageOptions {
  /** HTML for one chart (default: an empty figure the site fills in, named by data-chart). */
  chartHtml?: (chart: DiffChartEntry) => string;
}

const e = escapeHtml;

function defaultChartHtml(chart: DiffChartEntry): string {
  return `<figure class="chart" data-chart="${e(chart.id)}"><figcaption>${e(chart.title)}</figcaption></figure>`;
}

function table(header: string[], rows: string[][], className: string): string {
  return `<table class="${className}"><thead><tr>${header.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
}

const td = (v: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${e(v)}</td>`;

function sideCell(s: PointDiff['a']): string {
  if (s.n === 0) return td(`failed (${s.failed})`);
  const ci = s.ciLow !== null && s.ciHigh !== null ? ` ± ${((s.ciHigh - s.ciLow) / 2).toFixed(2)}` : '';
  return td(`${s.mean!.toFixed(2)}${ci} (${s.n})`, 'num');
}

function runRow(name: string, r: RunRef): string {
  return `<tr><th>${e(name)}</th>${td(r.label)}${td(r.runId)}${td(r.commit ? r.commit.slice(0, 10) : 'no commit')}${td(r.branch ?? '')}${td(r.createdAt)}${td(r.status)}${td(r.plan)}${td(r.environments.join(', '))}</tr>`;
}

function curveSummary(c: CurveDiff): string {
  const parts = [`${c.commonPoints} common points`];
  if (c.meanChangePercent !== null) parts.push(`mean change ${formatChange(c.meanChangePercent)}`);
  if (c.areaChangePercent !== null) parts.push(`area between the curves ${formatChange(c.areaChangePercent)} of A's`);
  parts.push(`${c.improved} improved, ${c.regressed} regressed, ${c.unchanged} unchanged, ${c.undecided} undecided`);
  if (c.onlyInA || c.onlyInB) parts.push(`${c.onlyInB} added, ${c.onlyInA} removed`);
  return parts.join('; ');
}

export function diffPage(d: RunDiff, options: DiffPageOptions = {}): DiffPage {
  const chartHtml = options.chartHtml ?? defaultChartHtml;
  const groups = diffGroups(d);
  const charts = groupCharts(groups);
  const s = d.summary;
  const title = `Diff: ${d.b.label} vs ${d.a.label}`;
  const html: string[] = [];
  html.push(`<p class="diff-headline"><strong>${s.regressed} regressed, ${s.improved} improved</strong>, ${s.unchanged} unchanged, ${s.undecided} undecided of ${s.compared} points compared; ${s.added} added, ${s.removed} removed.</p>`);
  html.push(`<table class="diff-runs"><thead><tr><th></th><th>run</th><th>id</th><th>commit</th><th>branch</th><th>created</th><th>status</th><th>plan</th><th>environments</th></tr></thead><tbody>${runRow('A (baseline)', d.a)}${runRow('B (candidate)', d.b)}</tbody></table>`);
  const correction = d.options.correction === 'holm' ? `Holm-corrected across the ${s.tested} points tested` : 'no multiple-comparison correction';
  html.push(`<p class="diff-rules">Improved or regressed: a change of at least ${d.options.thresholdPercent}% that is significant at alpha ${d.options.alpha} (Welch's t-test, ${e(correction)}).</p>`);

  html.push('<section class="diff-manifest"><h2>Manifest differences</h2>');
  if (d.manifestDifferences.length === 0) html.push('<p>None: same plan, environments, testbed, accelerators, versions, kernel, hardware and sysctls.</p>');
  else {
    html.push('<p>Listed first: they explain most result changes.</p>');
    html.push(table(['category', 'field', 'A', 'B'], d.manifestDifferences.map((m) => [td(m.category), `<td><code>${e(m.field)}</code></td>`, `<td><code>${e(m.a ?? '(absent)')}</code></td>`, `<td><code>${e(m.b ?? '(absent)')}</code></td>`]), 'diff-manifest-table'));
  }
  html.push('</section>');

  for (const group of groups) {
    const { chart } = group;
    if (chart) {
      html.push(`<section class="diff-curve" id="${e(chart.id)}"><h2>${e(chart.title)}</h2>`);
      html.push(chartHtml(chart));
    } else {
      const where = group.onlyIn === null ? 'Neither run has a measured point here' : `Only run ${group.onlyIn} has points here, so there is nothing to overlay: they are listed under ${group.onlyIn === 'A' ? 'Removed' : 'Added'} below, and drawn on run ${group.onlyIn}'s own page`;
      html.push(`<section class="diff-curve diff-one-sided"><h2>${e(`${environmentTitle(group.environment)}, ${group.test}: ${group.onlyIn === null ? 'no points' : `only in ${group.onlyIn}`}`)}</h2>`);
      html.push(`<p class="diff-one-sided-note">${e(`${where}.`)}</p>`);
    }
    for (const c of d.curves.filter((c) => c.environment === group.environment && c.test === group.test)) {
      const rows = d.points.filter((p) => p.environment === c.environment && p.test === c.test && p.series === c.series);
      html.push(`<h3>Series ${e(c.series)}</h3><p class="diff-curve-summary">${e(curveSummary(c))}</p>`);
      if (rows.length) {
        html.push(table([`${PARAMETER_FLAG[c.parameter]} (bytes)`, 'A mean ± CI95 (n)', 'B mean ± CI95 (n)', 'change', d.options.correction === 'holm' ? 'p (Holm)' : 'p', 'significance', 'verdict'], rows.map((p) => [
          td(String(p.value), 'num'), sideCell(p.a), sideCell(p.b), td(formatChange(p.changePercent), 'num'), td(formatP(p.pAdjusted), 'num'), td(p.significance + (p.method === 'netperf-confidence' ? ' (netperf CI)' : '')), td(p.classification, `verdict-${p.classification}`),
        ]), 'diff-points'));
      }
    }
    html.push('</section>');
  }

  const oneSided = (title: string, ps: RunDiff['added']) => (ps.length ? `<section><h2>${e(title)}</h2><ul>${ps.map((p) => `<li>${e(`${p.environment} ${p.test} ${p.series} ${p.parameter}=${p.value}: ${p.stats.mean === null ? 'failed' : `${p.stats.mean.toFixed(2)} (${p.stats.n})`}`)}</li>`).join('')}</ul></section>` : '');
  html.push(oneSided(`Added (in B only, ${d.added.length})`, d.added), oneSided(`Removed (in A only, ${d.removed.length})`, d.removed));

  html.push('<section class="diff-summary"><h2>Largest changes</h2>');
  html.push(s.largest.length ? `<ol>${s.largest.map((l) => `<li>${e(`${l.environment} ${l.test} ${l.parameter}=${l.value}: ${formatChange(l.changePercent)} (${l.classification})`)}</li>`).join('')}</ol>` : '<p>No common points.</p>');
  html.push('</section>');

  html.push('<section class="diff-claims"><h2>Claims whose verdict changed</h2>');
  if (d.claimChanges === null) html.push('<p>Not compared: verdicts are not available for both runs.</p>');
  else if (d.claimChanges.length === 0) html.push('<p>No claim changed its verdict.</p>');
  else html.push(table(['claim', 'A', 'B', 'text'], d.claimChanges.map((c) => [td(c.id), td(c.a ?? '(absent)'), td(c.b ?? '(absent)'), td(c.text)]), 'diff-claims-table'));
  html.push('</section>');
  return { title, bodyHtml: html.filter(Boolean).join('\n'), charts };
}

export interface DiffFile {
  path: string;
  content: string;
}

const STANDALONE_STYLE = 'body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}td.num{text-align:right}.verdict-regressed{color:#b03c00;font-weight:bold}.verdict-improved{color:#007a5a;font-weight:bold}code{font-size:.9em}figure{margin:1em 0}';

/** diff.json, diff.md, diff.txt, each chart's .vl.json and .svg, and index.html with the SVGs inlined. */
export async function buildDiffFiles(d: RunDiff): Promise<DiffFile[]> {
  const svgs = new Map<string, string>();
  for (const chart of diffCharts(d)) svgs.set(chart.id, await renderSvg(chart.spec));
  const page = diffPage(d, { chartHtml: (c) => `<figure class="chart" data-chart="${e(c.id)}">${svgs.get(c.id) ?? ''}</figure>` });
  const files: DiffFile[] = [
    { path: 'diff.json', content: formatDiffJson(d) },
    { path: 'diff.md', content: formatDiffMarkdown(d) },
    { path: 'diff.txt', content: formatDiffText(d) },
  ];
  for (const chart of page.charts) {
    files.push({ path: `charts/${chart.id}.vl.json`, content: `${JSON.stringify(chart.spec, null, 2)}\n` });
    files.push({ path: `charts/${chart.id}.svg`, content: svgs.get(chart.id)! });
  }
  files.push({ path: 'index.html', content: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(page.title)}</title><style>${STANDALONE_STYLE}</style></head><body>\n<h1>${e(page.title)}</h1>\n${page.bodyHtml}\n</body></html>\n` });
  return files;
}
