// Diffs of two runs on the static site: which pairs get a page, where the page lives, the page
// itself, and the picker page for any two runs. Pure: no I/O, no clock (site-build.ts writes).
//
// Each run is compared with the run before it (by createdAt, ties by run id) with the same plan
// name on the same testbed (runner pair or embedded link), else with the same plan name, or else
// with the run before it whatever its plan, so the index's "compare with previous" compares like
// with like whenever it can; the history pages mark the diffs of comparable runs (same plan and testbed). Any other pair is built on request (`--diff A:B`).

import type { DiffChartEntry } from '../diff/overlay-chart.ts';
import type { RunDiff } from '../diff/diff.ts';
import { diffPage } from '../diff/page.ts';
import { attribute, html, jsonScript } from '../core/html.ts';
import { InputError, quoted } from '../core/input.ts';
import { checkRunId } from '../core/file-names.ts';
import { chartHtml, link, runPagePath, tcgBanner, type Link, type SiteChart, type SitePage } from './site.ts';
import type { Manifest } from '../measure/records.ts';

export interface PairableRun {
  runId: string;
  createdAt: string;
  plan: string;
  /** Where it was measured (history.ts testbedOf): a run is compared with the previous run of its plan on its testbed first. */
  testbed?: string;
}

export interface RunPair {
  /** The baseline (the earlier run for "previous" pairs). */
  a: string;
  b: string;
  /** previous-same-plan: B's previous run with its plan (on its testbed if there is one); previous: B's previous run (no earlier run had its plan); requested: asked for with --diff. */
  kind: 'previous-same-plan' | 'previous' | 'requested';
}

function byCreation(x: PairableRun, y: PairableRun): number {
  return x.createdAt.localeCompare(y.createdAt) || x.runId.localeCompare(y.runId);
}

/** One pair per run that has an earlier run: its previous run with the same plan, else its previous run. */
export function previousRunPairs(runs: readonly PairableRun[]): RunPair[] {
  const ordered = [...runs].sort(byCreation);
  const pairs: RunPair[] = [];
  ordered.forEach((run, i) => {
    if (i === 0) return;
    for (let j = i - 1; j >= 0; j--) {
      if (ordered[j]!.plan === run.plan && ordered[j]!.testbed === run.testbed) {
        pairs.push({ a: ordered[j]!.runId, b: run.runId, kind: 'previous-same-plan' });
        return;
      }
    }
    for (let j = i - 1; j >= 0; j--) {
      if (ordered[j]!.plan === run.plan) {
        pairs.push({ a: ordered[j]!.runId, b: run.runId, kind: 'previous-same-plan' });
        return;
      }
    }
    pairs.push({ a: ordered[i - 1]!.runId, b: run.runId, kind: 'previous' });
  });
  return pairs;
}

/** Requested pairs (`--diff A:B`): run ids cannot contain ':', so each value splits at its only colon. A bad one is an InputError of field `diff`. */
export function parseDiffPairs(values: readonly string[], runIds: readonly string[]): RunPair[] {
  const known = new Set(runIds);
  return values.map((value) => {
    const parts = value.split(':');
    if (parts.length !== 2 || !parts[0] || !parts[1])
      throw new InputError('diff', `${quoted(value)}: expected A:B, two run ids separated by one colon`);
    const [a, b] = parts as [string, string];
    for (const id of [a, b])
      if (!known.has(id))
        throw new InputError(
          'diff',
          `${quoted(value)}: no run with id ${quoted(id)} among the runs given (${runIds.length ? [...runIds].sort().join(', ') : 'none'})`,
        );
    if (a === b) throw new InputError('diff', `${quoted(value)}: A and B are the same run`);
    return { a, b, kind: 'requested' as const };
  });
}

/** Previous pairs first, then requested ones not already among them; sorted by B then A for stable output. */
export function sitePairs(runs: readonly PairableRun[], requested: readonly RunPair[] = []): RunPair[] {
  const out = new Map<string, RunPair>();
  for (const p of [...previousRunPairs(runs), ...requested])
    if (!out.has(`${p.a}\n${p.b}`)) out.set(`${p.a}\n${p.b}`, p);
  const paths = new Map<string, RunPair>();
  for (const p of out.values()) {
    const other = paths.get(diffDir(p.a, p.b));
    if (other)
      throw new Error(
        `diffs ${other.a}:${other.b} and ${p.a}:${p.b} would share the directory ${diffDir(p.a, p.b)}: run ids with "--" are ambiguous here`,
      );
    paths.set(diffDir(p.a, p.b), p);
  }
  return [...out.values()].sort((x, y) => x.b.localeCompare(y.b) || x.a.localeCompare(y.a));
}

/** The directory of a diff inside the site; the page is its index.html, the charts beside it. */
export function diffDir(a: string, b: string): string {
  return `diffs/${checkRunId(a)}--${checkRunId(b)}`;
}

export function diffPagePath(a: string, b: string): string {
  return `${diffDir(a, b)}/index.html`;
}

/** The index's Compare column: B's link to its diff with its previous run, by run id. */
export function compareLinksFor(pairs: readonly RunPair[]): Map<string, Link[]> {
  const out = new Map<string, Link[]>();
  for (const p of pairs) {
    if (p.kind === 'requested') continue;
    out.set(p.b, [
      ...(out.get(p.b) ?? []),
      {
        href: diffPagePath(p.a, p.b),
        text: p.kind === 'previous-same-plan' ? 'compare with previous' : 'compare with previous (other plan)',
      },
    ]);
  }
  return out;
}

/** A run page's links to every diff it is in, relative to runs/<runId>/index.html. */
export function runDiffLinks(runId: string, pairs: readonly RunPair[]): Link[] {
  return diffLinksByRun(pairs).get(runId) ?? [];
}

/** runDiffLinks of every run at once, in one pass over the pairs (a site of a thousand runs asks for all). */
export function diffLinksByRun(pairs: readonly RunPair[]): Map<string, Link[]> {
  const out = new Map<string, Link[]>();
  const add = (runId: string, l: Link) => {
    const list = out.get(runId);
    if (list) list.push(l);
    else out.set(runId, [l]);
  };
  for (const p of pairs) {
    add(p.b, {
      href: `../../${diffPagePath(p.a, p.b)}`,
      text: `${p.kind === 'requested' ? 'against' : 'against the previous run'} ${p.a} (this run is B)`,
    });
    add(p.a, {
      href: `../../${diffPagePath(p.a, p.b)}`,
      text: `${p.kind === 'requested' ? 'as the baseline of' : 'as the previous run of'} ${p.b} (this run is A)`,
    });
  }
  return out;
}

export function diffSiteCharts(charts: readonly DiffChartEntry[], noSvg?: ReadonlySet<string>): SiteChart[] {
  return charts.map((c) => ({
    id: c.id,
    title: c.title,
    specPath: `charts/${c.id}.vl.json`,
    svgPath: noSvg?.has(c.id) ? null : `charts/${c.id}.svg`,
    spec: c.spec,
  }));
}

/** The site page of one diff: run links and downloads, then diffPage's body with interactive charts (SVG fallback, except for the charts in noSvg). */
export function diffSitePage(
  diff: RunDiff,
  manifests: { a: Manifest; b: Manifest },
  noSvg?: ReadonlySet<string>,
): SitePage {
  const page = diffPage(diff, { chartHtml: (c) => chartHtml(diffSiteCharts([c], noSvg)[0]!) });
  const siteCharts = diffSiteCharts(page.charts, noSvg);
  const run = (id: string) => link({ href: `../../${runPagePath(id)}`, text: id });
  const here = (file: string) => link({ href: file, text: file });
  const head = html`<p class="diff-nav">A (baseline): ${run(diff.a.runId)} · B (candidate): ${run(diff.b.runId)} · ${here('diff.md')} · ${here('diff.txt')} · ${here('diff.json')} · ${link({ href: '../../compare.html', text: 'compare any two runs' })}</p>
`;
  const banner = tcgBanner(manifests.a) ?? tcgBanner(manifests.b);
  return {
    path: diffPagePath(diff.a.runId, diff.b.runId),
    title: page.title,
    banner,
    body: html`${head}${page.bodyHtml}`,
    charts: siteCharts,
  };
}

/** Single-quotes a shell word when it needs it, so the printed command can be pasted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface PickerInput {
  /** Every run, any order (shown newest first). */
  runs: readonly PairableRun[];
  pairs: readonly RunPair[];
  /**
   * The command that built this site, as words, without --diff for the new pair (the picker
   * appends `--diff A:B`); null when unknown (a generic command is shown).
   */
  command: readonly string[] | null;
}

export const PICKER_PATH = 'compare.html';

/** The picker: two selects; site.js goes to the pair's page or prints the command that builds it. Without scripts, the list of built diffs. */
export function pickerPage({ runs, pairs, command }: PickerInput): SitePage {
  const newest = [...runs].sort((x, y) => byCreation(y, x));
  const select = (
    name: string,
    label: string,
    selected: number,
  ) => html`<label>${label} <select name="${name}" id="pick-${name}">
${newest.map((r, i) => html`<option value="${r.runId}"${i === selected ? attribute('selected') : null}>${`${r.runId} (${r.plan}, ${r.createdAt})`}</option>\n`)}</select></label>`;
  const data = {
    pairs: Object.fromEntries(pairs.map((p) => [`${p.a}:${p.b}`, diffPagePath(p.a, p.b)])),
    command: (command ?? ['virtnet', 'report', 'RUN_DIR...', '--site', 'SITE_DIR']).map(shellWord).join(' '),
  };
  const built = pairs.length
    ? html`<ul class="diff-list">${pairs.map((p) => html`<li>${link({ href: diffPagePath(p.a, p.b), text: `B ${p.b} vs A ${p.a}` })} (${p.kind})</li>`)}</ul>`
    : html`<p>No diffs are built: the site has fewer than two runs.</p>`;
  const body = html`<p>Pick a baseline A and a candidate B. Diffs are computed when the site is built, so the page of a pair exists if it was built: each run with its previous run, and pairs asked for with <code>--diff A:B</code>.</p>
<form id="diff-picker" class="picker">
${select('a', 'A (baseline)', Math.min(1, Math.max(0, newest.length - 1)))}
${select('b', 'B (candidate)', 0)}
<button type="submit">Compare</button>
</form>
<p id="picker-result" class="picker-result" role="status"></p>
<script type="application/json" id="diff-pairs">${jsonScript(data)}</script>
<h2>Diffs built</h2>
${built}`;
  return { path: PICKER_PATH, title: 'Compare two runs', banner: null, body, charts: [], script: true };
}
