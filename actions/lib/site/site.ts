// The static site's pages as data, and their HTML. Pure: no I/O, no clock, so the same runs give
// byte-identical pages. Every page is built with the html`` tag (core/html.ts): every string from
// outside (commit messages, branch names, hostnames, plan names and values, environment details) is
// escaped where it is interpolated, links go through safeHref, and chart specs are embedded with
// jsonScript, so no spec can close its <script> element.
//
// A page is { path, title, banner, body, charts }: a new page type (e.g. a diff of two runs) is a
// function returning a SitePage, passed to buildSite as an extra page; the index keeps a column
// per run for links to such pages (IndexEntry.compareLinks).

import { plural } from '../core/text.ts';
import { html, jsonScript, safeHref, type SafeHtml } from '../core/html.ts';
import type { TopLevelSpec } from 'vega-lite';
import {
  countsLine,
  countVerdicts,
  verdictLabel,
  type ClaimResult,
  type ClaimsScope,
} from '../analyse/claims/judge.ts';
import { checkRunId } from '../core/file-names.ts';
import { environmentTitle } from '../analyse/environment-names.ts';
import { TCG_WARNING, usesTcg } from '../report/charts/figures.ts';
import type { Manifest } from '../measure/records.ts';
import type { ChartEntry } from '../report/report.ts';
import type { RunAnalysis } from '../analyse/run.ts';
import { linkSummary, type Table } from '../analyse/tables.ts';
import { own } from '../core/own.ts';
import { chartNotes } from '../report/charts/lines.ts';
import { judgedHere, oneLineFinding } from '../report/findings.ts';

export { judgedHere, oneLineFinding } from '../report/findings.ts';
import { parameterFlag } from '../plan/plan.ts';

export interface SiteChart {
  id: string;
  title: string;
  /** Paths relative to the page's directory. */
  specPath: string;
  /** Null when the site was built without rendering SVGs (SiteOptions.svg 'none'): the chart is drawn in the browser only. */
  svgPath: string | null;
  spec: TopLevelSpec;
}

export interface SitePage {
  /** Path inside the site, e.g. "runs/<runId>/index.html". */
  path: string;
  title: string;
  /** Shown at the top of the page in a warning box (e.g. the TCG notice). */
  banner: SafeHtml | null;
  body: SafeHtml;
  charts: SiteChart[];
  /** Load site.js even without charts (a page with its own script behaviour, e.g. the diff picker). */
  script?: boolean;
}

/** A link as data: href relative to the page it is on (checked by safeHref when rendered). */
export interface Link {
  href: string;
  text: string;
}

export function runPagePath(runId: string): string {
  return `runs/${checkRunId(runId)}/index.html`;
}

function relativeRoot(path: string): string {
  const depth = path.split('/').length - 1;
  return depth === 0 ? './' : '../'.repeat(depth);
}

export function link(l: Link): SafeHtml {
  return html`<a href="${safeHref(l.href)}">${l.text}</a>`;
}

/** The whole document of a page. */
export function renderPage(page: SitePage, siteTitle = 'virtnet reports'): string {
  const root = relativeRoot(page.path);
  const asset = (name: string) => safeHref(`${root}assets/${name}`);
  const charts = page.charts.map(
    (c) => html`<script type="application/json" id="spec-${c.id}">${jsonScript(c.spec)}</script>\n`,
  );
  const scripts =
    page.charts.length > 0
      ? html`<script src="${asset('vega.min.js')}"></script>
<script src="${asset('vega-lite.min.js')}"></script>
<script src="${asset('vega-embed.min.js')}"></script>
<script src="${asset('site.js')}"></script>
`
      : page.script
        ? html`<script src="${asset('site.js')}"></script>
`
        : null;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${page.title} - ${siteTitle}</title>
<link rel="stylesheet" href="${asset('site.css')}">
</head>
<body>
<header><a href="${safeHref(`${root}index.html`)}">${siteTitle}</a></header>
<main>
${page.banner ? html`<p class="banner" role="alert">${page.banner}</p>\n` : null}<h1>${page.title}</h1>
${page.body}
</main>
${charts}${scripts}</body>
</html>
`.toString();
}

/** A table too wide for a phone scrolls inside its own box, never the page. */
export function scrollBox(table: SafeHtml): SafeHtml {
  return html`<div class="scroll">${table}</div>`;
}

export function tableHtml(t: Table): SafeHtml {
  const head = html`<tr>${t.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr>`;
  const rows = t.rows.map(
    (r) => html`<tr>${r.map((v, i) => (i === 0 ? html`<th scope="row">${v}</th>` : html`<td>${v}</td>`))}</tr>\n`,
  );
  const notes = (t.notes ?? []).map((n) => html`<p class="table-note">${n}</p>\n`);
  return html`${scrollBox(html`<table class="facts" id="${t.id}"><caption>${t.title}</caption>
<thead>${head}</thead>
<tbody>
${rows}</tbody></table>`)}${notes}`;
}

export function claimsTableHtml(claims: readonly ClaimResult[]): SafeHtml {
  // Analyses written before findings and limits existed have neither: the evidence stands alone.
  const finding = (c: ClaimResult) => (c.finding ? html`<p class="finding">${c.finding}</p>` : '');
  const limits = (c: ClaimResult) =>
    (c.limits ?? []).length ? html`<p class="limits">What this testbed cannot show: ${c.limits.join(' ')}</p>` : '';
  const rows = claims.map(
    (c) =>
      html`<tr class="verdict-${c.verdict}" id="claim-${c.id}"><td>${c.text}</td><td>${c.section}</td><td class="verdict">${verdictLabel(c)}</td><td>${finding(c)}${limits(c)}<details><summary>evidence</summary>${c.evidence}</details><p class="conditions">Judged under: ${c.conditions}.</p><details><summary>how judged</summary>${c.judged}${c.note ? ` ${c.note}` : ''}</details></td></tr>\n`,
  );
  return scrollBox(html`<table class="claims" id="claims"><caption>The paper's claims, judged on this run: ${countsLine(claims)}</caption>
<thead><tr><th scope="col">Claim</th><th scope="col">Section</th><th scope="col">Verdict</th><th scope="col">Finding and evidence</th></tr></thead>
<tbody>
${rows}</tbody></table>`);
}

/** The three counts as the index's column shows them, each in its verdict's colour: supported / refuted / inconclusive. */
export function verdictNumbersHtml(v: Record<'supported' | 'refuted' | 'inconclusive', number | string>): SafeHtml {
  return html`<span class="count v-supported" title="supported">${v.supported}</span> / <span class="count v-refuted" title="refuted">${v.refuted}</span> / <span class="count v-inconclusive" title="inconclusive">${v.inconclusive}</span>`;
}

/** A commit message's subject line: the index shows one line a row. */
function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** Supported, refuted, inconclusive: each count in its verdict's colour (site.css), with its word, so colour is never the only cue. */
export function verdictCountsHtml(v: Record<'supported' | 'refuted' | 'inconclusive', number>): SafeHtml {
  return html`<span class="counts"><span class="count v-supported">${v.supported} supported</span> <span class="count v-refuted">${v.refuted} refuted</span> <span class="count v-inconclusive">${v.inconclusive} inconclusive</span></span>`;
}

/** How many of the judged-here claims the strip lists before pointing to the table: the figures stay above the fold. */
const STRIP_MAX = 4;

/**
 * The run page's first block: the verdicts counted, then the claims this run could judge with what
 * it found, refuted first (what a reader most needs to know), at most STRIP_MAX of them.
 */
export function verdictStripHtml(claims: readonly ClaimResult[]): SafeHtml {
  const counts = countVerdicts(claims);
  const order = { refuted: 0, supported: 1, inconclusive: 2 } as const;
  const judged = claims.filter(judgedHere).sort((a, b) => order[a.verdict] - order[b.verdict]);
  const shown = judged.slice(0, STRIP_MAX);
  const items = shown.map(
    (c) =>
      html`<li class="v-${c.verdict}"><a class="mark" href="${safeHref(`#claim-${c.id}`)}">${c.verdict}</a> ${c.text} <span class="finding">${oneLineFinding(c)}</span></li>\n`,
  );
  const rest = judged.length - shown.length;
  const notJudged = claims.length - judged.length;
  const list =
    judged.length === 0
      ? html`<p class="none">No claim could be judged on this run: the environments they need were not measured or ran under TCG.</p>\n`
      : html`<ul class="judged">\n${items}</ul>\n`;
  const tail = [
    rest > 0 ? `${plural(rest, 'more claim')} judged here` : null,
    notJudged > 0 ? `${plural(notJudged, 'claim')} this run could not judge` : null,
  ].filter((t) => t !== null);
  return html`<section class="verdict-strip" id="verdicts" aria-label="Verdicts">
<p>${verdictCountsHtml(counts)} <span class="of">of ${plural(claims.length, 'claim')}</span></p>
${list}${tail.length ? html`<p class="more">${tail.join('; ')}: <a href="#claims-section">all claims with their evidence</a></p>\n` : null}</section>
`;
}

/** What the run can and cannot test, before its verdicts. */
export function claimsScopeHtml(scope: ClaimsScope): SafeHtml {
  const list = (items: readonly string[]) => html`<ul>${items.map((l) => html`<li>${l}</li>`)}</ul>`;
  return html`<div class="scope"><p><strong>Conditions:</strong> ${scope.conditions}.</p><p><strong>This run can test:</strong></p>${list(scope.canTest)}<p><strong>This run cannot test:</strong></p>${list(scope.cannotTest.length ? scope.cannotTest : ['(nothing this run lacks)'])}</div>\n`;
}

/** The chart's notes (what its marks mean) under it, where the chart itself shows one short subtitle. */
function notesHtml(c: SiteChart): SafeHtml | null {
  const notes = chartNotes(c.spec);
  return notes.length ? html`<span class="notes">${notes.join('; ')}.</span> ` : null;
}

export function chartHtml(c: SiteChart): SafeHtml {
  if (c.svgPath === null) {
    return html`<figure class="chart" id="chart-${c.id}">
<div class="vega" data-chart="${c.id}"><p class="no-svg">${c.title}: drawn in the browser from the Vega-Lite spec in this page (the site was built without pre-rendered SVGs).</p></div>
<figcaption>${notesHtml(c)}${c.title}</figcaption>
</figure>`;
  }
  return html`<figure class="chart" id="chart-${c.id}">
<div class="vega" data-chart="${c.id}"><img src="${safeHref(c.svgPath)}" alt="${c.title}" width="680"></div>
<figcaption>${notesHtml(c)}<a href="${safeHref(c.specPath)}">Vega-Lite spec</a> · <a href="${safeHref(c.svgPath)}">SVG</a></figcaption>
</figure>`;
}

export interface RunPageInput {
  manifest: Manifest;
  analysis: RunAnalysis;
  charts: readonly ChartEntry[];
  /** Links to the diffs this run is in (relative to the run page), and to the picker. */
  diffLinks?: readonly Link[];
  pickerHref?: string;
  /** Charts with no SVG fallback (see SiteChart.svgPath). */
  noSvg?: ReadonlySet<string>;
}

/** The run page's line of links to its diffs. */
export function diffLinksHtml(links: readonly Link[], pickerHref?: string): SafeHtml | null {
  const items = links.map(link);
  if (pickerHref) items.push(link({ href: pickerHref, text: 'compare any two runs' }));
  return items.length
    ? html`<p class="diff-links"><strong>Diffs:</strong> ${items.map((item, i) => (i === 0 ? item : html` · ${item}`))}</p>\n`
    : null;
}

export function tcgBanner(manifest: Manifest): SafeHtml | null {
  return usesTcg(manifest)
    ? html`${TCG_WARNING}. Guest environments here measure an emulator, not the paper's KVM.`
    : null;
}

/** netperf's own confidence intervals, when the plan asked for them: points that missed the width. */
export function confidenceNote(a: RunAnalysis): SafeHtml | null {
  const asked = a.points.filter((p) => p.confidenceAsked);
  if (asked.length === 0) return null;
  const missed = asked.filter((p) => p.confidenceMissed > 0);
  if (missed.length === 0)
    return html`<p class="confidence">netperf's confidence interval was asked for at ${asked.length} points and met at every one.</p>\n`;
  const items = missed.map(
    (p) =>
      html`<li>${p.environment} ${p.test} ${p.parameter}=${p.value}: ${p.confidenceMissed} of ${p.throughput.n} replicates missed the requested width</li>`,
  );
  return html`<div class="confidence"><p>netperf's confidence interval was asked for at ${asked.length} points; it was missed at ${missed.length} (flagged points):</p><ul>${items}</ul></div>\n`;
}

/** UDP measurements the receiver counted foreign datagrams in: their throughput and okay rate are inflated. */
export function udpAnomalyNote(a: RunAnalysis): SafeHtml | null {
  if (a.udpAnomalies.length === 0) return null;
  const items = a.udpAnomalies.map(
    (u) => html`<li>${u.environment} ${parameterFlag(u.parameter)} ${u.x} replicate ${u.replicate}: ${u.reason}</li>`,
  );
  return html`<div class="warning"><p><strong>${a.udpAnomalies.length} UDP measurements received datagrams their sender did not send</strong> (most likely the previous test's datagrams, still queued on the link, arriving on the same data port): their throughput and okay rate are inflated.</p><ul>${items}</ul></div>\n`;
}

const DOWNLOADS: readonly [file: string, note: string][] = [
  ['results.jsonl', ' (every measurement, raw netperf output included)'],
  ['manifest.json', ''],
  ['points.csv', ' (per point and environment: mean, stdev, 95% CI, socket sizes, okay rate)'],
  ['relative.csv', ''],
  ['udp.csv', ' (UDP messages sent and received per point, summed over replicates: okay rate and loss)'],
  ['comparisons.csv', " (every pair of environments at every shared point: difference and Welch's t-test)"],
  ['analysis.json', ' (claims, Fig. 5/7 averages, signed areas)'],
];

export function runPage({
  manifest: m,
  analysis: a,
  charts,
  diffLinks = [],
  pickerHref,
  noSvg,
}: RunPageInput): SitePage {
  const siteCharts: SiteChart[] = charts.map((c) => ({
    id: c.id,
    title: c.title,
    specPath: `charts/${c.id}.vl.json`,
    svgPath: noSvg?.has(c.id) ? null : `charts/${c.id}.svg`,
    spec: c.spec,
  }));
  const envList =
    a.environments.map((e) => environmentTitle(e, own(m.environmentDescriptions, e)?.accelerator)).join(', ') ||
    '(none measured)';
  const errors = Object.entries(m.environmentErrors ?? {});
  // Findings first: the verdicts, then the figures; the evidence, tables and the run's facts after.
  const body = html`${verdictStripHtml(a.claims)}<h2 id="figures">Figures</h2>
${siteCharts.map((c) => html`${chartHtml(c)}\n`)}<p class="method">Points are means over replicates with two-sided 95% Student-t intervals; relative throughput is mean/native-mean with first-order (delta method) error propagation; Fig. 5/7 averages the relative points in 0-6000 B; the signed area is the trapezoid rule over the points both curves share. Drag to pan and scroll to zoom a chart.</p>
<h2 id="claims-section">Claims</h2>
<details class="evidence"><summary>The ${plural(a.claims.length, 'claim')} with their evidence, and what this run can and cannot test</summary>
${claimsScopeHtml(a.scope)}${claimsTableHtml(a.claims)}
</details>
<h2>Tables</h2>
${a.tables.map((t) => html`${tableHtml(t)}\n`)}<h2 id="run-facts">Run</h2>
<p class="link"><strong>Testbed link:</strong> ${linkSummary(m)}</p>
<dl class="run-facts">
<dt>Commit</dt><dd><code>${m.git.commit ?? '(unknown)'}</code>${m.git.dirty ? ' (with uncommitted changes)' : ''} ${m.git.subject ?? ''}</dd>
<dt>Branch</dt><dd>${m.git.branch ?? '(unknown)'}</dd>
<dt>Created</dt><dd>${m.createdAt}</dd>
<dt>Status</dt><dd>${m.status}; ${m.sessions.length} session(s)</dd>
<dt>Plan</dt><dd>${m.plan.name} (${m.planSource}): ${plural(m.plan.replicates, 'replicate')}, ${m.plan.testLengthSeconds} s per test</dd>
<dt>Environments</dt><dd>${envList}</dd>
</dl>
${diffLinksHtml(diffLinks, pickerHref)}${confidenceNote(a)}${udpAnomalyNote(a)}${errors.length ? html`<ul class="errors">${errors.map(([e, msg]) => html`<li>${e}: ${msg}</li>`)}</ul>\n` : null}<h2>Data</h2>
<ul class="downloads">
${DOWNLOADS.map(([file, note]) => html`<li>${link({ href: file, text: file })}${note}</li>\n`)}</ul>`;
  return { path: runPagePath(m.runId), title: `Run ${m.runId}`, banner: tcgBanner(m), body, charts: siteCharts };
}

export interface IndexEntry {
  runId: string;
  createdAt: string;
  commit: string | null;
  subject: string | null;
  branch: string | null;
  plan: string;
  /** The runner pair's name; null on the embedded testbed and in runs before pairs. */
  pair: string | null;
  /** testbedOf(manifest). */
  testbed: string;
  environments: string[];
  machine: string;
  status: string;
  tcg: boolean;
  verdicts: Record<'supported' | 'refuted' | 'inconclusive', number>;
  /** Links from this run to other pages (e.g. "compare with previous"), added by other page types. */
  compareLinks: Link[];
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
    pair: m.runnerPair ?? null,
    testbed: testbedOf(m),
    environments: [...environments],
    machine: s ? `${s.hostname}: ${s.cpuModel}, ${s.cores} cores, ${s.kernel}` : '(not recorded)',
    status: m.status,
    tcg: usesTcg(m),
    verdicts,
    compareLinks: [],
  };
}

export const NO_PAIR = '(no runner pair)';

/** Where a run was measured, as the history's testbed filter names it: a runner pair, or the embedded testbed's rate and delay. */
export function testbedOf(m: Pick<Manifest, 'runnerPair' | 'link'>): string {
  if (m.runnerPair) return `runner pair ${m.runnerPair}`;
  const l = m.link;
  if (!l) return 'testbed not recorded';
  if (l.kind === 'external') return 'external link (unnamed pair)';
  const rate = l.rateMbit ? `${l.rateMbit} Mbit/s` : 'unshaped';
  const delay = l.oneWayDelayMicroseconds ? `${l.oneWayDelayMicroseconds} us one-way delay` : 'no added delay';
  return `embedded testbed, ${rate}, ${delay}`;
}

/** Newest first; ties by run id, so the order never depends on the input order. */
export function sortEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  return [...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.runId.localeCompare(b.runId));
}

/**
 * pickerHref: the page that diffs any two runs, linked above the table when the site has one.
 * overview: the history's small multiples (history.ts), above the table; pairsHref: the page comparing runner pairs.
 */
export function indexPage(
  entries: readonly IndexEntry[],
  pickerHref?: string,
  overview: SafeHtml | null = null,
  pairsHref?: string,
  regressionsHref?: string,
): SitePage {
  const rows = sortEntries(entries).map((e) => {
    const subject = e.subject ? firstLine(e.subject) : '';
    const commit = e.commit
      ? html`<code>${e.commit.slice(0, 12)}</code> <span class="subject" title="${subject}">${subject}</span>`
      : '(unknown)';
    const compare = e.compareLinks.map((l, i) => (i === 0 ? link(l) : html` ${link(l)}`));
    return html`<tr data-run="${e.runId}" data-plan="${e.plan}" data-pair="${e.pair ?? NO_PAIR}" data-testbed="${e.testbed}"><td>${link({ href: runPagePath(e.runId), text: e.runId })}${e.tcg ? html` <span class="tcg" title="QEMU guests ran under TCG emulation">TCG</span>` : null}</td><td>${e.createdAt}</td><td>${commit}</td><td>${e.branch ?? ''}</td><td>${e.plan}</td><td>${e.environments.join(', ')}</td><td>${e.machine}</td><td>${e.status}</td><td class="claims-counts">${verdictNumbersHtml(e.verdicts)}</td><td class="compare">${compare}</td></tr>\n`;
  });
  const body = html`<p>Every run of the pipeline: the paper's figures regenerated from our measurements, with a verdict on each of its claims.</p>
${overview}${pickerHref ? html`<p class="picker-link">${link({ href: pickerHref, text: 'Compare any two runs' })}</p>\n` : null}${pairsHref ? html`<p class="pairs-link">${link({ href: pairsHref, text: 'Runner pairs compared: the same claims judged per pair' })}</p>\n` : null}${regressionsHref ? html`<p class="regressions-link">${link({ href: regressionsHref, text: 'Regressions and improvements between consecutive comparable runs (with an Atom feed)' })}</p>\n` : null}<h2 id="runs-heading">Runs</h2>
<p class="verdict-legend">Claims column: ${verdictNumbersHtml({ supported: 'supported', refuted: 'refuted', inconclusive: 'inconclusive' })}</p>
<div class="scroll"><table class="runs" id="runs">
<thead><tr><th scope="col">Run</th><th scope="col">Date</th><th scope="col">Commit</th><th scope="col">Branch</th><th scope="col">Plan</th><th scope="col">Environments</th><th scope="col">Machine</th><th scope="col">Status</th><th scope="col">Claims</th><th scope="col">Compare</th></tr></thead>
<tbody>
${rows}</tbody></table></div>`;
  return { path: 'index.html', title: 'Runs', banner: null, body, charts: [], script: overview !== null };
}
