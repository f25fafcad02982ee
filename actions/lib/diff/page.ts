// The diff as a web page: the body HTML (runs, manifest differences first, one section per
// environment and test with its overlay chart, when both runs have points to overlay, and its
// tables; added/removed points, summary, claims) plus the chart specs it shows. Pure; built with
// the html`` tag, so every label, name and value from the runs is escaped where it is interpolated.
// A site embeds `bodyHtml` in its own layout and places each chart where the body has its
// <figure data-chart="ID"> (inline SVG or vega-embed); site/standalone-diff.ts writes a page of its
// own with the SVGs inlined, for `virtnet diff --out` and CI artifacts.

import { type DiffChartEntry, diffGroups, groupCharts } from './overlay-chart.ts';
import { environmentTitle } from '../analyse/environment-names.ts';
import type { CurveDiff, PointDiff, RunDiff, RunRef } from './diff.ts';
import { changedPoints, cpuChangedPoints, formatChange, formatP } from './format.ts';
import { html, type SafeHtml } from '../core/html.ts';
import { parameterFlag } from '../plan/plan.ts';

export interface DiffPage {
  /** The page's title; the body has no <h1> of its own (the site's layout prints the title). */
  title: string;
  bodyHtml: SafeHtml;
  charts: DiffChartEntry[];
}

export interface DiffPageOptions {
  /** HTML for one chart (default: an empty figure the site fills in, named by data-chart). */
  chartHtml?: (chart: DiffChartEntry) => SafeHtml;
}

function defaultChartHtml(chart: DiffChartEntry): SafeHtml {
  return html`<figure class="chart" data-chart="${chart.id}"><figcaption>${chart.title}</figcaption></figure>`;
}

function table(header: string[], rows: SafeHtml[][], className: string): SafeHtml {
  // In a box of its own that scrolls: a wide table never widens the page (site.css .scroll).
  return html`<div class="scroll"><table class="${className}"><thead><tr>${header.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r}</tr>`)}</tbody></table></div>`;
}

const td = (v: string, cls = ''): SafeHtml => (cls ? html`<td class="${cls}">${v}</td>` : html`<td>${v}</td>`);

function sideCell(s: PointDiff['a']): SafeHtml {
  if (s.n === 0) return td(`failed (${s.failed})`);
  const ci = s.ciLow !== null && s.ciHigh !== null ? ` ± ${((s.ciHigh - s.ciLow) / 2).toFixed(2)}` : '';
  return td(`${s.mean!.toFixed(2)}${ci} (${s.n})`, 'num');
}

function cpuCell(c: NonNullable<PointDiff['cpu']>['a']): SafeHtml {
  const ci = c.ciLow !== null && c.ciHigh !== null ? ` ± ${((c.ciHigh - c.ciLow) / 2).toFixed(3)}` : '';
  return td(`${c.mean.toFixed(3)}${ci} (${c.n})`, 'num');
}

function runRow(name: string, r: RunRef): SafeHtml {
  return html`<tr><th>${name}</th>${td(r.label)}${td(r.runId)}${td(r.commit ? r.commit.slice(0, 10) : 'no commit')}${td(r.branch ?? '')}${td(r.createdAt)}${td(r.status)}${td(r.plan)}${td(r.environments.join(', '))}</tr>`;
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
  const title = `Diff: ${d.a.label} → ${d.b.label}`;
  const out: SafeHtml[] = [];
  out.push(
    html`<p class="diff-headline"><strong>${s.regressed} regressed, ${s.improved} improved</strong>, ${s.unchanged} unchanged, ${s.undecided} undecided of ${s.compared} points compared; ${s.added} added, ${s.removed} removed.</p>`,
  );
  // What changed first: the regressed and improved points, largest first; then the runs, the curves, the manifests.
  const changed = changedPoints(d);
  if (changed.length) {
    out.push(html`<section class="diff-changed"><h2>Changed points</h2>`);
    out.push(
      table(
        [
          'verdict',
          'curve',
          'point',
          'A mean ± CI95 (n)',
          'B mean ± CI95 (n)',
          'change',
          d.options.correction === 'holm' ? 'p (Holm)' : 'p',
        ],
        changed.map((p) => [
          td(p.classification, `verdict-${p.classification}`),
          td(`${environmentTitle(p.environment)} ${p.test} ${p.series}`),
          td(`${parameterFlag(p.parameter)} ${p.value}`),
          sideCell(p.a),
          sideCell(p.b),
          td(formatChange(p.changePercent), 'num'),
          td(formatP(p.pAdjusted), 'num'),
        ]),
        'diff-changed-table',
      ),
    );
    out.push(html`</section>`);
  }
  // The server's CPU per gigabyte, where both runs recorded it: its own family, lower is better.
  if (s.cpu) {
    const c = s.cpu;
    out.push(
      html`<section class="diff-cpu"><h2>CPU cost per gigabyte</h2><p class="diff-cpu-summary">${c.compared} points with a server CPU cost in both runs: ${c.improved} improved (less CPU per gigabyte), ${c.regressed} regressed (more), ${c.unchanged} unchanged, ${c.undecided} undecided; Welch's t-test over ${c.tested}, ${d.options.correction === 'holm' ? 'Holm-corrected apart from throughput' : 'uncorrected'}.</p>`,
    );
    const cpuChanged = cpuChangedPoints(d);
    if (cpuChanged.length)
      out.push(
        table(
          [
            'verdict',
            'curve',
            'point',
            'A CPU-s/GB ± CI95 (n)',
            'B CPU-s/GB ± CI95 (n)',
            'change',
            d.options.correction === 'holm' ? 'p (Holm)' : 'p',
          ],
          cpuChanged.map((p) => [
            td(p.cpu!.classification, `verdict-${p.cpu!.classification}`),
            td(`${environmentTitle(p.environment)} ${p.test} ${p.series}`),
            td(`${parameterFlag(p.parameter)} ${p.value}`),
            cpuCell(p.cpu!.a),
            cpuCell(p.cpu!.b),
            td(formatChange(p.cpu!.changePercent), 'num'),
            td(formatP(p.cpu!.pAdjusted), 'num'),
          ]),
          'diff-cpu-table',
        ),
      );
    out.push(html`</section>`);
  }
  out.push(
    html`<div class="scroll"><table class="diff-runs"><thead><tr><th></th><th>run</th><th>id</th><th>commit</th><th>branch</th><th>created</th><th>status</th><th>plan</th><th>environments</th></tr></thead><tbody>${runRow('A (baseline)', d.a)}${runRow('B (candidate)', d.b)}</tbody></table></div>`,
  );
  const correction =
    d.options.correction === 'holm'
      ? `Holm-corrected across the ${s.tested} points tested`
      : 'no multiple-comparison correction';
  out.push(
    html`<p class="diff-rules">Improved or regressed: a change of at least ${d.options.thresholdPercent}% that is significant at alpha ${d.options.alpha} (Welch's t-test, ${correction}).</p>`,
  );

  for (const group of groups) {
    const { chart } = group;
    if (chart) {
      out.push(html`<section class="diff-curve" id="${chart.id}"><h2>${chart.title}</h2>`);
      out.push(chartHtml(chart));
    } else {
      const where =
        group.onlyIn === null
          ? 'Neither run has a measured point here'
          : `Only run ${group.onlyIn} has points here, so there is nothing to overlay: they are listed under ${group.onlyIn === 'A' ? 'Removed' : 'Added'} below, and drawn on run ${group.onlyIn}'s own page`;
      out.push(
        html`<section class="diff-curve diff-one-sided"><h2>${`${environmentTitle(group.environment)}, ${group.test}: ${group.onlyIn === null ? 'no points' : `only in ${group.onlyIn}`}`}</h2>`,
      );
      out.push(html`<p class="diff-one-sided-note">${where}.</p>`);
    }
    for (const c of d.curves.filter((c) => c.environment === group.environment && c.test === group.test)) {
      const rows = d.points.filter(
        (p) => p.environment === c.environment && p.test === c.test && p.series === c.series,
      );
      out.push(html`<h3>Series ${c.series}</h3><p class="diff-curve-summary">${curveSummary(c)}</p>`);
      if (rows.length) {
        out.push(
          table(
            [
              `${parameterFlag(c.parameter)} (bytes)`,
              'A mean ± CI95 (n)',
              'B mean ± CI95 (n)',
              'change',
              d.options.correction === 'holm' ? 'p (Holm)' : 'p',
              'significance',
              'verdict',
            ],
            rows.map((p) => [
              td(String(p.value), 'num'),
              sideCell(p.a),
              sideCell(p.b),
              td(formatChange(p.changePercent), 'num'),
              td(formatP(p.pAdjusted), 'num'),
              td(p.significance + (p.method === 'netperf-confidence' ? ' (netperf CI)' : '')),
              td(p.classification, `verdict-${p.classification}`),
            ]),
            'diff-points',
          ),
        );
      }
    }
    out.push(html`</section>`);
  }

  const oneSided = (title: string, ps: RunDiff['added']) =>
    ps.length
      ? html`<section><h2>${title}</h2><ul>${ps.map((p) => html`<li>${`${p.environment} ${p.test} ${p.series} ${p.parameter}=${p.value}: ${p.stats.mean === null ? 'failed' : `${p.stats.mean.toFixed(2)} (${p.stats.n})`}`}</li>`)}</ul></section>`
      : null;
  for (const section of [
    oneSided(`Added (in B only, ${d.added.length})`, d.added),
    oneSided(`Removed (in A only, ${d.removed.length})`, d.removed),
  ])
    if (section) out.push(section);

  out.push(html`<section class="diff-summary"><h2>Largest changes</h2>`);
  out.push(
    s.largest.length
      ? html`<ol>${s.largest.map((l) => html`<li>${`${l.environment} ${l.test} ${l.parameter}=${l.value}: ${formatChange(l.changePercent)} (${l.classification})`}</li>`)}</ol>`
      : html`<p>No common points.</p>`,
  );
  out.push(html`</section>`);

  out.push(html`<section class="diff-claims"><h2>Claims whose verdict changed</h2>`);
  if (d.claimChanges === null) out.push(html`<p>Not compared: verdicts are not available for both runs.</p>`);
  else if (d.claimChanges.length === 0) out.push(html`<p>No claim changed its verdict.</p>`);
  else
    out.push(
      table(
        ['claim', 'A', 'B', 'text'],
        d.claimChanges.map((c) => [td(c.id), td(c.a ?? '(absent)'), td(c.b ?? '(absent)'), td(c.text)]),
        'diff-claims-table',
      ),
    );
  out.push(html`</section>`);

  // Last and collapsed: the configuration differences that may explain a change (per-run noise left out, diff.ts).
  out.push(html`<section class="diff-manifest"><h2>Manifest differences</h2>`);
  if (d.manifestDifferences.length === 0)
    out.push(
      html`<p>None: same plan, environments, testbed, accelerators, versions, kernel, hardware and sysctls.</p>`,
    );
  else {
    out.push(
      html`<details><summary>${d.manifestDifferences.length} configuration differences (plan, environments, testbed, versions, kernel, hardware, sysctls)</summary>`,
    );
    out.push(
      table(
        ['category', 'field', 'A', 'B'],
        d.manifestDifferences.map((m) => [
          td(m.category),
          html`<td><code>${m.field}</code></td>`,
          html`<td><code>${m.a ?? '(absent)'}</code></td>`,
          html`<td><code>${m.b ?? '(absent)'}</code></td>`,
        ]),
        'diff-manifest-table',
      ),
    );
    out.push(html`</details>`);
  }
  out.push(html`</section>`);
  return { title, bodyHtml: html`${out.map((part, i) => (i === 0 ? part : html`\n${part}`))}`, charts };
}
