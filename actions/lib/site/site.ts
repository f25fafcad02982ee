// The static site's pages as data, and their HTML. Pure: no I/O, no clock, so the same runs give
// byte-identical pages. Every string from outside (commit messages, branch names, hostnames, plan
// names, environment details) goes through escapeHtml; chart specs are embedded as JSON with `<`
// escaped, so no spec can close its <script> element.
//
// A page is { path, title, banner, body, charts }: a new page type (e.g. a diff of two runs) is a
// function returning a SitePage, passed to buildSite as an extra page; the index keeps a column
// per run for links to such pages (IndexEntry.compareLinks).

import { escapeHtml, scriptJson } from '../core/html.ts';
import type { TopLevelSpec } from 'vega-lite';
import { verdictLabel, type ClaimResult, type ClaimsScope } from '../analyse/claims/judge.ts';
import { environmentTitle } from '../report/charts/style.ts';
import { TCG_WARNING, usesTcg } from '../report/charts/figures.ts';
import type { Manifest } from '../measure/records.ts';
import type { ChartEntry, RunAnalysis } from '../report/report.ts';
import { linkSummary, type Table } from '../report/tables.ts';

export const ASSET_FILES = ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js', 'site.js', 'site.css'] as const;

export interface SiteChart {
  id: string;
  title: string;
  /** Paths relative to the page's directory. */
  specPath: string;
  svgPath: string;
  spec: TopLevelSpec;
}

export interface SitePage {
  /** Path inside the site, e.g. "runs/<runId>/index.html". */
  path: string;
  title: string;
  /** Shown at the top of the page in a warning box (e.g. the TCG notice); already escaped HTML. */
  banner: string | null;
  /** The page's body, already escaped HTML. */
  body: string;
  charts: SiteChart[];
  /** Load site.js even without charts (a page with its own script behaviour, e.g. the diff picker). */
  script?: boolean;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Run ids become directory names: refuse anything that could escape the site or be ambiguous. */
export function checkRunId(runId: string): string {
  if (!SAFE_ID.test(runId)) throw new Error(`run id ${JSON.stringify(runId)} cannot name a site directory: expected letters, digits, '.', '_' or '-'`);
  return runId;
}

export function runPagePath(runId: string): string {
  return `runs/${checkRunId(runId)}/index.html`;
}

function relativeRoot(path: string): string {
  const depth = path.split('/').length - 1;
  return depth === 0 ? './' : '../'.repeat(depth);
}

export function renderPage(page: SitePage, siteTitle = 'virtnet reports'): string {
  const root = relativeRoot(page.path);
  const charts = page.charts
    .map((c) => `<script type="application/json" id="spec-${escapeHtml(c.id)}">${scriptJson(c.spec)}</script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(page.title)} - ${escapeHtml(siteTitle)}</title>
<link rel="stylesheet" href="${root}assets/site.css">
</head>
<body>
<header><a href="${root}index.html">${escapeHtml(siteTitle)}</a></header>
<main>
${page.banner ? `<p class="banner" role="alert">${page.banner}</p>\n` : ''}<h1>${escapeHtml(page.title)}</h1>
${page.body}
</main>
${charts}
${page.charts.length > 0 ? `<script src="${root}assets/vega.min.js"></script>
<script src="${root}assets/vega-lite.min.js"></script>
<script src="${root}assets/vega-embed.min.js"></script>
<script src="${root}assets/site.js"></script>
` : page.script ? `<script src="${root}assets/site.js"></script>
` : ''}</body>
</html>
`;
}

export function tableHtml(t: Table): string {
  const head = `<tr>${t.columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((v, i) => (i === 0 ? `<th scope="row">${escapeHtml(v)}</th>` : `<td>${escapeHtml(v)}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="facts" id="${escapeHtml(t.id)}"><caption>${escapeHtml(t.title)}</caption>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody></table>`;
}

export function claimsTableHtml(claims: readonly ClaimResult[]): string {
  const rows = claims
    .map((c) => `<tr class="verdict-${escapeHtml(c.verdict)}" id="claim-${escapeHtml(c.id)}"><td>${escapeHtml(c.text)}</td><td>${escapeHtml(c.section)}</td><td class="verdict">${escapeHtml(verdictLabel(c))}</td><td>${escapeHtml(c.evidence)}<p class="conditions">Judged under: ${escapeHtml(c.conditions)}.</p><details><summary>how judged</summary>${escapeHtml(c.judged)}${c.note ? ` ${escapeHtml(c.note)}` : ''}</details></td></tr>`)
    .join('\n');
  return `<table class="claims" id="claims"><caption>The paper's claims, judged on this run</caption>
<thead><tr><th scope="col">Claim</th><th scope="col">Section</th><th scope="col">Verdict</th><th scope="col">Evidence</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/** What the run can and cannot test, before its verdicts. */
export function claimsScopeHtml(scope: ClaimsScope): string {
  const list = (items: readonly string[]) => `<ul>${items.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`;
  return `<div class="scope"><p><strong>Conditions:</strong> ${escapeHtml(scope.conditions)}.</p><p><strong>This run can test:</strong></p>${list(scope.canTest)}<p><strong>This run cannot test:</strong></p>${list(scope.cannotTest.length ? scope.cannotTest : ['(nothing this run lacks)'])}</div>\n`;
}

export function chartHtml(c: SiteChart): string {
  return `<figure class="chart" id="chart-${escapeHtml(c.id)}">
<div class="vega" data-chart="${escapeHtml(c.id)}"><img src="${escapeHtml(c.svgPath)}" alt="${escapeHtml(c.title)}" width="680"></div>
<figcaption>${escapeHtml(c.title)} · <a href="${escapeHtml(c.specPath)}">Vega-Lite spec</a> · <a href="${escapeHtml(c.svgPath)}">SVG</a></figcaption>
</figure>`;
}

export interface RunPageInput {
  manifest: Manifest;
  analysis: RunAnalysis;
  charts: readonly ChartEntry[];
  /** Links to the diffs this run is in (relative to the run page), and to the picker. */
  diffLinks?: readonly { href: string; text: string }[];
  pickerHref?: string;
}

/** The run page's line of links to its diffs. */
export function diffLinksHtml(links: readonly { href: string; text: string }[], pickerHref?: string): string {
  const items = links.map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a>`);
  if (pickerHref) items.push(`<a href="${escapeHtml(pickerHref)}">compare any two runs</a>`);
  return items.length ? `<p class="diff-links"><strong>Diffs:</strong> ${items.join(' · ')}</p>\n` : '';
}

export function tcgBanner(manifest: Manifest): string | null {
  return usesTcg(manifest) ? escapeHtml(`${TCG_WARNING}. Guest environments here measure an emulator, not the paper's KVM.`) : null;
}

/** netperf's own confidence intervals, when the plan asked for them: points that missed the width. */
export function confidenceNote(a: RunAnalysis): string {
  const asked = a.points.filter((p) => p.confidenceAsked);
  if (asked.length === 0) return '';
  const missed = asked.filter((p) => p.confidenceMissed > 0);
  if (missed.length === 0) return `<p class="confidence">netperf's confidence interval was asked for at ${asked.length} points and met at every one.</p>\n`;
  const items = missed.map((p) => `<li>${escapeHtml(p.environment)} ${escapeHtml(p.test)} ${escapeHtml(p.parameter)}=${p.value}: ${p.confidenceMissed} of ${p.throughput.n} replicates missed the requested width</li>`).join('');
  return `<div class="confidence"><p>netperf's confidence interval was asked for at ${asked.length} points; it was missed at ${missed.length} (flagged points):</p><ul>${items}</ul></div>\n`;
}

/** UDP measurements the receiver counted foreign datagrams in: their throughput and okay rate are inflated. */
export function udpAnomalyNote(a: RunAnalysis): string {
  if (a.udpAnomalies.length === 0) return '';
  const items = a.udpAnomalies.map((u) => `<li>${escapeHtml(u.environment)} -m ${u.x} replicate ${u.replicate}: ${escapeHtml(u.reason)}</li>`).join('');
  return `<div class="warning"><p><strong>${a.udpAnomalies.length} UDP measurements received datagrams their sender did not send</strong> (most likely the previous test's datagrams, still queued on the link, arriving on the same data port): their throughput and okay rate are inflated.</p><ul>${items}</ul></div>\n`;
}

export function runPage({ manifest: m, analysis: a, charts, diffLinks = [], pickerHref }: RunPageInput): SitePage {
  const siteCharts: SiteChart[] = charts.map((c) => ({ id: c.id, title: c.title, specPath: `charts/${c.id}.vl.json`, svgPath: `charts/${c.id}.svg`, spec: c.spec }));
  const envList = a.environments.map((e) => environmentTitle(e, m.environmentDescriptions[e]?.accelerator)).join(', ') || '(none measured)';
  const errors = Object.entries(m.environmentErrors ?? {});
  const body = `${claimsScopeHtml(a.scope)}<p class="link"><strong>Testbed link:</strong> ${escapeHtml(linkSummary(m))}</p>
<dl class="run-facts">
<dt>Commit</dt><dd><code>${escapeHtml(m.git.commit ?? '(unknown)')}</code>${m.git.dirty ? ' (with uncommitted changes)' : ''} ${escapeHtml(m.git.subject ?? '')}</dd>
<dt>Branch</dt><dd>${escapeHtml(m.git.branch ?? '(unknown)')}</dd>
<dt>Created</dt><dd>${escapeHtml(m.createdAt)}</dd>
<dt>Status</dt><dd>${escapeHtml(m.status)}; ${m.sessions.length} session(s)</dd>
<dt>Plan</dt><dd>${escapeHtml(m.plan.name)} (${escapeHtml(m.planSource)}): ${m.plan.replicates} replicates, ${m.plan.testLengthSeconds} s per test</dd>
<dt>Environments</dt><dd>${escapeHtml(envList)}</dd>
</dl>
${diffLinksHtml(diffLinks, pickerHref)}${confidenceNote(a)}${udpAnomalyNote(a)}${errors.length ? `<ul class="errors">${errors.map(([e, msg]) => `<li>${escapeHtml(e)}: ${escapeHtml(msg)}</li>`).join('')}</ul>\n` : ''}<h2>Claims</h2>
${claimsTableHtml(a.claims)}
<h2>Figures</h2>
<p class="method">Points are means over replicates with two-sided 95% Student-t intervals; relative throughput is mean/native-mean with first-order (delta method) error propagation; Fig. 5/7 averages the relative points in 0-6000 B; the signed area is the trapezoid rule over the points both curves share. Drag to pan and scroll to zoom a chart.</p>
${siteCharts.map(chartHtml).join('\n')}
<h2>Tables</h2>
${a.tables.map(tableHtml).join('\n')}
<h2>Data</h2>
<ul class="downloads">
<li><a href="results.jsonl">results.jsonl</a> (every measurement, raw netperf output included)</li>
<li><a href="manifest.json">manifest.json</a></li>
<li><a href="points.csv">points.csv</a> (per point and environment: mean, stdev, 95% CI, socket sizes, okay rate)</li>
<li><a href="relative.csv">relative.csv</a></li>
<li><a href="udp.csv">udp.csv</a> (UDP messages sent and received per point, summed over replicates: okay rate and loss)</li>
<li><a href="comparisons.csv">comparisons.csv</a> (every pair of environments at every shared point: difference and Welch's t-test)</li>
<li><a href="analysis.json">analysis.json</a> (claims, Fig. 5/7 averages, signed areas)</li>
</ul>`;
  return { path: runPagePath(m.runId), title: `Run ${m.runId}`, banner: tcgBanner(m), body, charts: siteCharts };
}

export interface IndexEntry {
  runId: string;
  createdAt: string;
  commit: string | null;
  subject: string | null;
  branch: string | null;
  plan: string;
  environments: string[];
  machine: string;
  status: string;
  tcg: boolean;
  verdicts: Record<'supported' | 'refuted' | 'inconclusive', number>;
  /** Links from this run to other pages (e.g. "compare with previous"), added by other page types. */
  compareLinks: { href: string; text: string }[];
}

export function indexEntry(m: Manifest, claims: readonly ClaimResult[], environments: readonly string[]): IndexEntry {
  const verdicts = { supported: 0, refuted: 0, inconclusive: 0 };
  for (const c of claims) verdicts[c.verdict]++;
  const s = m.hosts.server;
  return {
    runId: m.runId,
    createdAt: m.createdAt,
    commit: m.git.commit,
    subject: m.git.subject,
    branch: m.git.branch,
    plan: m.plan.name,
    environments: [...environments],
    machine: s ? `${s.hostname}: ${s.cpuModel}, ${s.cores} cores, ${s.kernel}` : '(not recorded)',
    status: m.status,
    tcg: usesTcg(m),
    verdicts,
    compareLinks: [],
  };
}

/** Newest first; ties by run id, so the order never depends on the input order. */
export function sortEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  return [...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.runId.localeCompare(b.runId));
}

/** pickerHref: the page that diffs any two runs, linked above the table when the site has one. */
export function indexPage(entries: readonly IndexEntry[], pickerHref?: string): SitePage {
  const rows = sortEntries(entries)
    .map((e) => {
      const commit = e.commit ? `<code>${escapeHtml(e.commit.slice(0, 12))}</code> ${escapeHtml(e.subject ?? '')}` : '(unknown)';
      const compare = e.compareLinks.map((l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a>`).join(' ');
      return `<tr data-run="${escapeHtml(e.runId)}"><td><a href="${escapeHtml(runPagePath(e.runId))}">${escapeHtml(e.runId)}</a>${e.tcg ? ' <span class="tcg" title="QEMU guests ran under TCG emulation">TCG</span>' : ''}</td><td>${escapeHtml(e.createdAt)}</td><td>${commit}</td><td>${escapeHtml(e.branch ?? '')}</td><td>${escapeHtml(e.plan)}</td><td>${escapeHtml(e.environments.join(', '))}</td><td>${escapeHtml(e.machine)}</td><td>${escapeHtml(e.status)}</td><td>${e.verdicts.supported} / ${e.verdicts.refuted} / ${e.verdicts.inconclusive}</td><td class="compare">${compare}</td></tr>`;
    })
    .join('\n');
  const body = `<p>Every run of the pipeline: the paper's figures regenerated from our measurements, with a verdict on each of its claims. Claims column: supported / refuted / inconclusive.</p>
${pickerHref ? `<p class="picker-link"><a href="${escapeHtml(pickerHref)}">Compare any two runs</a></p>\n` : ''}<table class="runs" id="runs">
<thead><tr><th scope="col">Run</th><th scope="col">Date</th><th scope="col">Commit</th><th scope="col">Branch</th><th scope="col">Plan</th><th scope="col">Environments</th><th scope="col">Machine</th><th scope="col">Status</th><th scope="col">Claims</th><th scope="col">Compare</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
  return { path: 'index.html', title: 'Runs', banner: null, body, charts: [] };
}

export const SITE_CSS = `body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:0;color:#111;line-height:1.4}
header{background:#222;padding:.5rem 1rem}header a{color:#fff;text-decoration:none;font-weight:bold}
main{max-width:1100px;margin:0 auto;padding:1rem}
.warning{border-left:4px solid #D55E00;padding:.2rem .6rem;background:#fdf0e8}
.banner{background:#fff3cd;border:2px solid #b58900;padding:.6rem;font-weight:bold}
.link{font-size:1.05rem;background:#eef5fb;border-left:4px solid #0072B2;padding:.5rem}
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
caption{text-align:left;font-weight:bold;padding:.3rem 0}
.verdict-supported .verdict{background:#d4edda}.verdict-refuted .verdict{background:#f8d7da}.verdict-inconclusive .verdict{background:#eee}
.verdict{font-weight:bold}
.tcg{background:#b58900;color:#fff;padding:0 .3rem;border-radius:3px;font-size:.8rem}
figure.chart{margin:1.5rem 0}figcaption{font-size:.85rem;color:#444}
.diff-links,.diff-nav{background:#f4f4f4;padding:.4rem .6rem}
td.num{text-align:right}td.verdict-regressed{color:#b03c00;font-weight:bold}td.verdict-improved{color:#007a5a;font-weight:bold}
form.picker{display:flex;gap:1rem;flex-wrap:wrap;align-items:end}.picker-result{font-size:1rem}.picker-result code{display:block;background:#f4f4f4;padding:.4rem;margin-top:.3rem;white-space:pre-wrap;word-break:break-all}
dl.run-facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
`;

/** Turns every .vega placeholder into an interactive chart; the SVG stays when scripts cannot run. */
export const SITE_JS = `(function () {
  'use strict';
  var nodes = document.querySelectorAll('.vega[data-chart]');
  Array.prototype.forEach.call(nodes, function (node) {
    var id = node.getAttribute('data-chart');
    var source = document.getElementById('spec-' + id);
    if (!source || typeof vegaEmbed !== 'function') return;
    var spec = JSON.parse(source.textContent);
    var fallback = node.innerHTML;
    node.innerHTML = '';
    vegaEmbed(node, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function () { node.setAttribute('data-rendered', 'true'); })
      .catch(function (err) { node.innerHTML = fallback; node.setAttribute('data-rendered', 'fallback'); console.warn('chart ' + id + ': ' + err); });
  });

  // The diff picker: go to the pair's page when the site has it, else say which command builds it.
  // Run ids and the command are put in as text, never as HTML.
  var picker = document.getElementById('diff-picker');
  var pairsSource = document.getElementById('diff-pairs');
  if (picker && pairsSource) {
    var data = JSON.parse(pairsSource.textContent);
    var result = document.getElementById('picker-result');
    picker.addEventListener('submit', function (event) {
      event.preventDefault();
      var a = picker.elements.a.value;
      var b = picker.elements.b.value;
      result.textContent = '';
      if (a === b) { result.textContent = 'A and B are the same run: pick two different runs.'; return; }
      var path = Object.prototype.hasOwnProperty.call(data.pairs, a + ':' + b) ? data.pairs[a + ':' + b] : null;
      if (path) { window.location.href = path; return; }
      result.appendChild(document.createTextNode('The diff of B ' + b + ' against A ' + a + ' is not built. Build it with:'));
      var code = document.createElement('code');
      code.textContent = data.command + ' --diff ' + a + ':' + b;
      result.appendChild(code);
      var reverse = Object.prototype.hasOwnProperty.call(data.pairs, b + ':' + a) ? data.pairs[b + ':' + a] : null;
      if (reverse) {
        var link = document.createElement('a');
        link.href = reverse;
        link.textContent = 'the reverse diff (A ' + b + ', B ' + a + ') is built';
        result.appendChild(link);
      }
    });
  }
})();
`;
