// A RunDiff as text (terminal), markdown (job summary, pull-request comment) and JSON (machines).
// Pure. All three say the same things in the same order: the runs, the manifest differences (first:
// they explain most result changes), one table per environment/test/series with its whole-curve
// line, points added and removed, the summary and the claims whose verdict changed. Outside text
// (labels, run ids, statuses, names, manifest values, claim texts) is kept on its line in all of
// them (core/escape.ts), and escaped for markdown where markdown is written, so it can neither forge a
// line or a table row nor carry markup into a job summary or a pull-request comment.

import type {
  Classification,
  CurveDiff,
  ManifestDifference,
  OneSidedPoint,
  PointDiff,
  RunDiff,
  RunRef,
  SideStats,
} from './diff.ts';
import { parameterFlag } from '../plan/plan.ts';
import { escapeHtml } from '../core/html.ts';
import { mdBlockText, mdCode, mdText, oneLine } from '../core/escape.ts';

const flag = parameterFlag;

function num(v: number | null, digits = 2): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export function formatChange(c: number | null): string {
  if (c === null || !Number.isFinite(c)) return 'n/a';
  const s = c.toFixed(1);
  return c > 0 && s !== '0.0' ? `+${s}%` : `${s === '-0.0' ? '0.0' : s}%`;
}

export function formatP(p: number | null): string {
  if (p === null) return '-';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

function side(s: SideStats): string {
  if (s.n === 0) return `failed (${s.failed})`;
  const ci = s.ciHigh !== null && s.ciLow !== null ? ` ± ${num((s.ciHigh - s.ciLow) / 2)}` : '';
  return `${num(s.mean)}${ci} (${s.n})`;
}

function significanceLabel(p: PointDiff): string {
  switch (p.significance) {
    case 'significant':
      return p.method === 'netperf-confidence' ? 'yes (netperf CI)' : 'yes';
    case 'not-significant':
      return p.method === 'netperf-confidence' ? 'no (netperf CI)' : 'no';
    case 'too-few-replicates':
      return 'too few replicates';
    case 'all-failed':
      return 'all failed';
  }
}

function short(commit: string | null): string {
  return commit ? commit.slice(0, 10) : 'no commit';
}

function runLine(r: RunRef): string {
  // The subject's first 60 characters: enough to recognise the commit, short enough for one terminal line.
  const first = r.subject ? oneLine(r.subject) : '';
  const subject = first ? ` "${first.length > 60 ? `${first.slice(0, 59)}\u2026` : first}"` : '';
  return oneLine(
    `${r.label}: run ${r.runId}, commit ${short(r.commit)}${r.branch ? ` (${r.branch})` : ''}${subject}, created ${r.createdAt}, ${r.status}, plan ${r.plan}, environments ${r.environments.join(',') || 'none'}`,
  );
}

function rulesLine(d: RunDiff): string {
  const o = d.options;
  const test =
    o.correction === 'holm'
      ? `Welch's t-test, Holm-corrected across the ${d.summary.tested} points tested`
      : `Welch's t-test, each point at alpha (no multiple-comparison correction)`;
  return `improved/regressed = a change of at least ${o.thresholdPercent}% that is significant at alpha ${o.alpha} (${test}; fewer than 2 replicates: netperf's own confidence interval if recorded, else undecided)`;
}

function curveTitle(c: { environment: string; test: string; series: string; parameter: string }): string {
  return oneLine(`${c.environment} ${c.test} ${c.series} (${flag(c.parameter)}, bytes)`);
}

function curveLine(c: CurveDiff): string {
  const parts = [`${c.commonPoints} common point${c.commonPoints === 1 ? '' : 's'}`];
  if (c.meanChangePercent !== null)
    parts.push(
      `mean change ${formatChange(c.meanChangePercent)} (min ${formatChange(c.minChangePercent)}, max ${formatChange(c.maxChangePercent)})`,
    );
  if (c.areaChangePercent !== null) parts.push(`area between the curves ${formatChange(c.areaChangePercent)} of A's`);
  parts.push(`${c.improved} improved, ${c.regressed} regressed, ${c.unchanged} unchanged, ${c.undecided} undecided`);
  if (c.onlyInA || c.onlyInB) parts.push(`${c.onlyInB} added, ${c.onlyInA} removed`);
  return `curve: ${parts.join('; ')}`;
}

function pHeader(d: RunDiff): string {
  return d.options.correction === 'holm' ? 'p (Holm)' : 'p';
}

function pointRow(p: PointDiff): string[] {
  return [
    String(p.value),
    side(p.a),
    side(p.b),
    formatChange(p.changePercent),
    formatP(p.pAdjusted),
    significanceLabel(p),
    p.classification,
  ];
}

function summaryLine(d: RunDiff): string {
  const s = d.summary;
  return `${s.compared} points compared: ${s.improved} improved, ${s.regressed} regressed, ${s.unchanged} unchanged, ${s.undecided} undecided (${s.significant} significant); ${s.added} added, ${s.removed} removed`;
}

function largestLines(d: RunDiff): string[] {
  return d.summary.largest.map((l) =>
    oneLine(
      `${l.environment} ${l.test} ${flag(l.parameter)} ${l.value}: ${formatChange(l.changePercent)} (${l.classification})`,
    ),
  );
}

/** The points that changed, what a reader wants first: regressions, then improvements, each the largest change first. */
export function changedPoints(d: RunDiff): PointDiff[] {
  const rank = (p: PointDiff) => (p.classification === 'regressed' ? 0 : 1);
  return d.points
    .filter((p) => p.classification === 'regressed' || p.classification === 'improved')
    .sort((x, y) => rank(x) - rank(y) || Math.abs(y.changePercent ?? 0) - Math.abs(x.changePercent ?? 0));
}

/** What the formats print: everything, or (--only-changed) only the curves with a regressed or improved point. */
export interface FormatOptions {
  onlyChanged?: boolean;
}

function curvesShown(d: RunDiff, o: FormatOptions): CurveDiff[] {
  return o.onlyChanged ? d.curves.filter((c) => c.regressed + c.improved > 0) : d.curves;
}

function changedRow(p: PointDiff): string[] {
  return [
    p.classification,
    oneLine(`${p.environment} ${p.test} ${p.series}`),
    `${flag(p.parameter)} ${p.value}`,
    side(p.a),
    side(p.b),
    formatChange(p.changePercent),
    formatP(p.pAdjusted),
  ];
}
const CHANGED_HEADER = ['verdict', 'curve', 'point', 'A mean ± CI95 (n)', 'B mean ± CI95 (n)', 'change'];

/** One side's CPU-seconds per gigabyte: mean ± half the 95 % interval (replicates). */
function cpuSide(c: NonNullable<PointDiff['cpu']>['a']): string {
  const ci = c.ciHigh !== null && c.ciLow !== null ? ` ± ${num((c.ciHigh - c.ciLow) / 2, 3)}` : '';
  return `${num(c.mean, 3)}${ci} (${c.n})`;
}

/** The points whose CPU cost per gigabyte changed, regressions (more CPU) first, each the largest change first. */
export function cpuChangedPoints(d: RunDiff): PointDiff[] {
  const rank = (p: PointDiff) => (p.cpu!.classification === 'regressed' ? 0 : 1);
  return d.points
    .filter((p) => p.cpu?.classification === 'regressed' || p.cpu?.classification === 'improved')
    .sort((x, y) => rank(x) - rank(y) || Math.abs(y.cpu!.changePercent ?? 0) - Math.abs(x.cpu!.changePercent ?? 0));
}

function cpuChangedRow(p: PointDiff): string[] {
  const c = p.cpu!;
  return [
    c.classification,
    oneLine(`${p.environment} ${p.test} ${p.series}`),
    `${flag(p.parameter)} ${p.value}`,
    cpuSide(c.a),
    cpuSide(c.b),
    formatChange(c.changePercent),
    formatP(c.pAdjusted),
  ];
}
const CPU_HEADER = ['verdict', 'curve', 'point', 'A CPU-s/GB ± CI95 (n)', 'B CPU-s/GB ± CI95 (n)', 'change'];

/** The CPU cost's summary, or null when no point has one in both runs. */
function cpuSummaryLine(d: RunDiff): string | null {
  const c = d.summary.cpu;
  if (!c) return null;
  return `${c.compared} points with a server CPU cost in both runs: ${c.improved} improved (less CPU per gigabyte), ${c.regressed} regressed (more), ${c.unchanged} unchanged, ${c.undecided} undecided; Welch's t-test over ${c.tested}, ${d.options.correction === 'holm' ? 'Holm-corrected apart from throughput' : 'uncorrected'}, threshold ${d.options.thresholdPercent}%`;
}

/** A manifest value in the terminal: long ones (commands, sweeps) cut, so a line stays readable; --format json has them whole. */
const TEXT_VALUE_MAX = 60;
const cut = (v: string) => (v.length > TEXT_VALUE_MAX ? `${v.slice(0, TEXT_VALUE_MAX - 1)}\u2026` : v);

function oneSidedLine(p: OneSidedPoint): string {
  return oneLine(`${p.environment} ${p.test} ${p.series} ${flag(p.parameter)} ${p.value}: ${side(p.stats)}`);
}

// ---------------------------------------------------------------- text

/** Pads columns to their widest cell; the first column is right-aligned (numbers), others left. */
function table(header: string[], cells: string[][], indent = '  ', numericFirst = true): string[] {
  const rows = cells.map((r) => r.map(oneLine));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === 0 && numericFirst ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function differenceRows(diffs: readonly ManifestDifference[]): string[][] {
  return diffs.map((m) => [m.category, m.field, m.a ?? '(absent)', m.b ?? '(absent)']);
}

export function formatDiffText(d: RunDiff, o: FormatOptions = {}): string {
  const out: string[] = [];
  out.push('virtnet diff');
  out.push(`  A (baseline):  ${runLine(d.a)}`);
  out.push(`  B (candidate): ${runLine(d.b)}`);
  out.push(`  ${rulesLine(d)}`);
  out.push('', `Summary: ${summaryLine(d)}`);
  // What changed first; then the curves, the claims, and the manifests that may explain it.
  const changed = changedPoints(d);
  if (changed.length) {
    out.push('', `Changed points (${d.summary.regressed} regressed, ${d.summary.improved} improved):`);
    out.push(...table([...CHANGED_HEADER, pHeader(d)], changed.map(changedRow), '  ', false));
  } else out.push('', 'Changed points: none regressed or improved');
  const cpuLine = cpuSummaryLine(d);
  if (cpuLine !== null) {
    out.push('', `CPU cost per gigabyte: ${cpuLine}`);
    const cpuChanged = cpuChangedPoints(d);
    if (cpuChanged.length) out.push(...table([...CPU_HEADER, pHeader(d)], cpuChanged.map(cpuChangedRow), '  ', false));
  }
  out.push(...['', ...claimTextLines(d)]);
  for (const c of curvesShown(d, o)) {
    const rows = d.points.filter((p) => p.environment === c.environment && p.test === c.test && p.series === c.series);
    out.push('');
    out.push(curveTitle(c));
    if (rows.length > 0)
      out.push(
        ...table(
          [flag(c.parameter), 'A mean ± CI95 (n)', 'B mean ± CI95 (n)', 'change', pHeader(d), 'significant', 'verdict'],
          rows.map(pointRow),
        ),
      );
    out.push(`  ${curveLine(c)}`);
  }
  if (d.added.length) {
    out.push('', `Added (in B only, ${d.added.length}):`);
    out.push(...d.added.map((p) => `  ${oneSidedLine(p)}`));
  }
  if (d.removed.length) {
    out.push('', `Removed (in A only, ${d.removed.length}):`);
    out.push(...d.removed.map((p) => `  ${oneSidedLine(p)}`));
  }
  if (d.summary.largest.length) out.push('', 'Largest changes:', ...largestLines(d).map((l) => `  ${l}`));
  out.push('');
  if (d.manifestDifferences.length === 0) {
    out.push(
      'Manifest differences: none (same plan, environments, testbed, accelerators, versions, kernel, hardware and sysctls)',
    );
  } else {
    out.push(
      `Manifest differences (${d.manifestDifferences.length}; values over ${TEXT_VALUE_MAX} characters cut, --format json has them whole):`,
    );
    out.push(
      ...table(
        ['category', 'field', 'A', 'B'],
        differenceRows(d.manifestDifferences).map((r) => r.map(cut)),
        '  ',
        false,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function claimTextLines(d: RunDiff): string[] {
  if (d.claimChanges === null) return ['Claims: not compared (verdicts not available for both runs)'];
  if (d.claimChanges.length === 0) return ['Claims whose verdict changed: none'];
  return [
    'Claims whose verdict changed:',
    ...d.claimChanges.map((c) => `  ${oneLine(`${c.id}: ${c.a ?? '(absent)'} -> ${c.b ?? '(absent)'}: ${c.text}`)}`),
  ];
}

// ---------------------------------------------------------------- markdown

const md = mdText;

function code(v: string | null): string {
  return v === null ? '*(absent)*' : mdCode(v);
}

/** Cells of `rows` must already be markdown; a numeric first column is right-aligned. */
function mdTable(header: string[], rows: string[][], numericFirst = false): string[] {
  return [
    `| ${header.map(md).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 && numericFirst ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const VERDICT_MARK: Record<Classification, string> = {
  improved: '**improved**',
  regressed: '**regressed**',
  unchanged: 'unchanged',
  undecided: '*undecided*',
};

export function formatDiffMarkdown(d: RunDiff, o: FormatOptions = {}): string {
  const out: string[] = [];
  const s = d.summary;
  out.push(`## virtnet diff: ${md(d.a.label)} → ${md(d.b.label)}`, '');
  out.push(
    `**${s.regressed} regressed, ${s.improved} improved**, ${s.unchanged} unchanged, ${s.undecided} undecided of ${s.compared} points compared; ${s.added} added, ${s.removed} removed.`,
    '',
  );
  const changed = changedPoints(d);
  if (changed.length) {
    out.push('### Changed points', '');
    out.push(
      ...mdTable(
        [...CHANGED_HEADER, pHeader(d)],
        changed.map((p) => {
          const r = changedRow(p);
          return [VERDICT_MARK[p.classification], md(r[1]!), md(r[2]!), ...r.slice(3).map(md)];
        }),
      ),
      '',
    );
  }
  const cpuLine = cpuSummaryLine(d);
  if (cpuLine !== null) {
    out.push('### CPU cost per gigabyte', '', `${md(cpuLine)}.`, '');
    const cpuChanged = cpuChangedPoints(d);
    if (cpuChanged.length)
      out.push(
        ...mdTable(
          [...CPU_HEADER, pHeader(d)],
          cpuChanged.map((p) => {
            const r = cpuChangedRow(p);
            return [VERDICT_MARK[p.cpu!.classification], md(r[1]!), md(r[2]!), ...r.slice(3).map(md)];
          }),
        ),
        '',
      );
  }
  out.push(
    ...mdTable(
      ['', 'run', 'commit', 'created', 'status', 'plan', 'environments'],
      [d.a, d.b].map((r, i) => [
        i === 0 ? 'A (baseline)' : 'B (candidate)',
        `${md(r.label)}<br>${mdCode(r.runId)}`,
        `${mdCode(short(r.commit))}${r.branch ? ` (${md(r.branch)})` : ''}`,
        md(r.createdAt),
        md(r.status),
        md(r.plan),
        md(r.environments.join(', ')),
      ]),
    ),
  );
  out.push('', `<sub>${md(rulesLine(d))}</sub>`, '');
  out.push('### Points', '');
  for (const c of curvesShown(d, o)) {
    const rows = d.points.filter((p) => p.environment === c.environment && p.test === c.test && p.series === c.series);
    const changed = c.regressed + c.improved > 0;
    const headline = `${c.environment} · ${c.test} · ${c.series}: ${c.regressed} regressed, ${c.improved} improved${c.meanChangePercent !== null ? `, mean change ${formatChange(c.meanChangePercent)}` : ''}`;
    // An HTML block: GitHub does not read markdown inside it, so this is HTML escaping.
    out.push(`<details${changed ? ' open' : ''}><summary>${escapeHtml(oneLine(headline))}</summary>`, '');
    if (rows.length) {
      out.push(
        ...mdTable(
          [
            `${flag(c.parameter)} (bytes)`,
            'A mean ± CI95 (n)',
            'B mean ± CI95 (n)',
            'change',
            pHeader(d),
            'significant',
            'verdict',
          ],
          rows.map((p) => {
            const r = pointRow(p);
            return [...r.slice(0, 6), VERDICT_MARK[p.classification]]; // numbers and words of this module: no outside text
          }),
          true,
        ),
      );
      out.push('');
    }
    out.push(mdBlockText(curveLine(c)), '', '</details>', '');
  }
  if (d.added.length)
    out.push(
      `### Added (in B only, ${d.added.length})`,
      '',
      ...d.added.map((p) => `- ${mdBlockText(oneSidedLine(p))}`),
      '',
    );
  if (d.removed.length)
    out.push(
      `### Removed (in A only, ${d.removed.length})`,
      '',
      ...d.removed.map((p) => `- ${mdBlockText(oneSidedLine(p))}`),
      '',
    );
  out.push('### Summary', '', summaryLine(d) + '.', '');
  if (s.largest.length) out.push('Largest changes:', '', ...largestLines(d).map((l) => `- ${mdBlockText(l)}`), '');
  out.push('### Claims', '');
  if (d.claimChanges === null) out.push('Not compared: verdicts are not available for both runs.');
  else if (d.claimChanges.length === 0) out.push('No claim changed its verdict.');
  else
    out.push(
      ...mdTable(
        ['claim', 'A', 'B', 'text'],
        d.claimChanges.map((c) => [
          md(c.id),
          c.a === null ? '*(absent)*' : md(c.a),
          c.b === null ? '*(absent)*' : md(c.b),
          md(c.text),
        ]),
      ),
    );
  out.push('', '### Manifest differences', '');
  if (d.manifestDifferences.length === 0)
    out.push('None: same plan, environments, testbed, accelerators, versions, kernel, hardware and sysctls.');
  else {
    out.push(
      `<details><summary>${d.manifestDifferences.length} configuration differences (plan, environments, testbed, versions, kernel, hardware, sysctls)</summary>`,
      '',
    );
    out.push(
      ...mdTable(
        ['category', 'field', 'A', 'B'],
        d.manifestDifferences.map((m) => [md(m.category), mdCode(m.field), code(m.a), code(m.b)]),
      ),
    );
    out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- JSON

/**
 * The RunDiff as JSON: the shape is the RunDiff interface in diff.ts (format "virtnet-diff",
 * formatVersion 1; fields are only added within a version). Numbers keep 6 significant digits so
 * the output diffs cleanly; non-finite numbers become null.
 */
export function formatDiffJson(d: RunDiff): string {
  return `${JSON.stringify(d, (_key, v) => (typeof v === 'number' ? (Number.isFinite(v) ? Number(v.toPrecision(6)) : null) : v), 2)}\n`;
}

export const DIFF_FORMATS = ['text', 'markdown', 'json'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export function formatDiff(d: RunDiff, format: DiffFormat, o: FormatOptions = {}): string {
  return format === 'json'
    ? formatDiffJson(d)
    : format === 'markdown'
      ? formatDiffMarkdown(d, o)
      : formatDiffText(d, o);
}
