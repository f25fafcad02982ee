// The regressions page and its Atom feed: every significant change between two consecutive
// comparable runs (same plan and testbed), newest first, each linked to both runs and their diff.
// Pure: the entries come from the site's diffs (build.ts); no clock, so the same runs give the
// same bytes (the feed's <updated> is its newest entry's date).

import { html, safeHref } from '../core/html.ts';
import { METRIC_INFO } from '../analyse/headline.ts';
import { environmentTitle } from '../analyse/environment-names.ts';
import type { HistoryMark } from './history.ts';
import { link, runPagePath, type SitePage } from './site.ts';
import { plural } from '../core/text.ts';

export const REGRESSIONS_PATH = 'regressions.html';
export const FEED_PATH = 'regressions.xml';

export interface ChangeEntry {
  /** The earlier run (A) and the later (B), where the change shows. */
  a: { runId: string; createdAt: string };
  b: { runId: string; createdAt: string };
  /** The diff page, relative to the site's root. */
  diffPath: string;
  regressed: number;
  improved: number;
  /** The headline metrics that moved, per environment (the history's marks of this diff). */
  marks: readonly HistoryMark[];
}

/** Only diffs with a significant change, newest B first (ties by run id, so the order never depends on the input's). */
export function changeEntries(entries: readonly ChangeEntry[]): ChangeEntry[] {
  return entries
    .filter((e) => e.regressed + e.improved > 0)
    .sort((x, y) => y.b.createdAt.localeCompare(x.b.createdAt) || x.b.runId.localeCompare(y.b.runId));
}

function markText(m: HistoryMark): string {
  const kind = m.regressed && m.improved ? 'moved both ways' : m.regressed ? 'regressed' : 'improved';
  return `${environmentTitle(m.environment)}: ${METRIC_INFO[m.metric].title} ${kind}`;
}

function headline(e: ChangeEntry): string {
  return `${plural(e.regressed, 'point')} regressed, ${e.improved} improved`;
}

export function regressionsPage(all: readonly ChangeEntry[]): SitePage {
  const entries = changeEntries(all);
  const rows = entries.map(
    (e) =>
      html`<tr class="${e.regressed > 0 ? 'has-regression' : 'improvement'}"><td>${e.b.createdAt}</td><td>${link({ href: runPagePath(e.b.runId), text: e.b.runId })}</td><td>${link({ href: runPagePath(e.a.runId), text: e.a.runId })}</td><td class="claims-counts"><!-- regressed in refuted's colour, improved in supported's (site.css) --><span class="count v-refuted" title="regressed">${e.regressed} regressed</span> <span class="count v-supported" title="improved">${e.improved} improved</span></td><td>${e.marks.length ? html`<ul>${e.marks.map((m) => html`<li>${markText(m)}</li>`)}</ul>` : '(no headline metric moved)'}</td><td>${link({ href: e.diffPath, text: 'diff' })}</td></tr>\n`,
  );
  const body = html`<p>Every significant change (at least the diff's threshold, significant after Holm's correction) between a run and the previous run of its plan on its testbed, newest first. <a href="${safeHref(FEED_PATH)}">Atom feed</a>.</p>
${
  entries.length === 0
    ? html`<p>No significant change between consecutive comparable runs.</p>\n`
    : html`<div class="scroll"><table class="regressions" id="regressions">
<thead><tr><th scope="col">Date (B)</th><th scope="col">Run (B)</th><th scope="col">Against (A)</th><th scope="col">Points</th><th scope="col">Headline metrics</th><th scope="col">Diff</th></tr></thead>
<tbody>
${rows}</tbody></table></div>
`
}`;
  return { path: REGRESSIONS_PATH, title: 'Regressions and improvements', banner: null, body, charts: [] };
}

/**
 * The Atom feed (RFC 4287) of the same entries. Links are relative to the feed's own address, which
 * Atom resolves against it: the feed works wherever the site is published.
 */
export function atomFeed(all: readonly ChangeEntry[], siteTitle = 'virtnet reports'): string {
  const entries = changeEntries(all);
  const updated = entries[0]?.b.createdAt ?? '1970-01-01T00:00:00.000Z';
  const items = entries.map(
    (e) => html`<entry>
<id>urn:virtnet:diff:${e.a.runId}:${e.b.runId}</id>
<title>${e.b.runId}: ${headline(e)} against ${e.a.runId}</title>
<updated>${e.b.createdAt}</updated>
<link rel="alternate" type="text/html" href="${safeHref(e.diffPath)}"/>
<link rel="related" type="text/html" href="${safeHref(runPagePath(e.b.runId))}" title="run B"/>
<link rel="related" type="text/html" href="${safeHref(runPagePath(e.a.runId))}" title="run A"/>
<summary>${[headline(e), ...e.marks.map(markText)].join('; ')}</summary>
</entry>
`,
  );
  return html`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>urn:virtnet:regressions</id>
<title>${siteTitle}: regressions and improvements</title>
<updated>${updated}</updated>
<link rel="alternate" type="text/html" href="${safeHref(REGRESSIONS_PATH)}"/>
<link rel="self" type="application/atom+xml" href="${safeHref(FEED_PATH)}"/>
${items}</feed>
`.toString();
}
