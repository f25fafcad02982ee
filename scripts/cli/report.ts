// virtnet report <RUN_DIR...> [--out DIR] [--site DIR [--diff A:B]... [--no-svg]] [--commit [--reports DIR]]

import { join } from 'node:path';
import { InputError, phrase } from '../../actions/lib/core/input.ts';
import { oneLine } from '../../actions/lib/core/escape.ts';
import {
  countsLine,
  verdictLabel,
  type ClaimResult,
  type ClaimsScope,
} from '../../actions/lib/analyse/claims/judge.ts';
import type { ClaimsFile } from '../../actions/lib/analyse/claims/schema.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { buildSite } from '../../actions/lib/site/build.ts';
import { commitRun, renderReport, writeReportFiles } from '../../actions/lib/report/report-files.ts';
import { claimsOption, parseCommandArgs, UsageError, say } from './common.ts';
import {
  headlineMetrics,
  type HeadlineValue,
  UDP_LARGE_MIN,
  UDP_SMALL_MAX,
} from '../../actions/lib/analyse/headline.ts';
import type { RunAnalysis } from '../../actions/lib/analyse/run.ts';
import { judgedHere, oneLineFinding } from '../../actions/lib/report/findings.ts';
import { plural } from '../../actions/lib/core/text.ts';

export const REPORT_USAGE = `  virtnet report <RUN_DIR...> [--out DIR]      report files (charts, CSV, claims) into RUN_DIR/report or DIR
  virtnet report <RUN_DIR...> --site DIR        a static site: an index of runs, a page per run, each run's
                                                diff with its previous run and a picker for any two runs
      [--diff A:B]...                           also build the diff of run id B against run id A
      [--no-svg]                                no SVG fallbacks (charts drawn in the browser): a site of a
                                                thousand new runs in a minute
  virtnet report <RUN_DIR...> --commit [--reports DIR]
                                                copy each run with its report into DIR/runs/<runId>/ (default: reports)
      [--claims NAME|FILE]                      the claims judged: a built-in name (paper) or a claims file (default: paper)`;

/** One line per claim, for the terminal, after what the run can and cannot test. */
export function verdictLines(
  claims: readonly (Pick<ClaimResult, 'id' | 'text' | 'verdict' | 'qualifier'> & { onlyTcg?: boolean })[],
  scope?: ClaimsScope,
): string[] {
  const width = Math.max(...claims.map((c) => verdictLabel(c).length));
  // Each outside field on its own line only (oneLine): a claim text cannot forge a verdict line.
  const reach = scope
    ? [
        `  conditions: ${oneLine(scope.conditions)}`,
        ...scope.canTest.map((l) => `  can test: ${oneLine(l)}`),
        ...scope.cannotTest.map((l) => `  cannot test: ${oneLine(l)}`),
      ]
    : [];
  return [
    ...reach,
    ...claims.map((c) => `  ${verdictLabel(c).padEnd(width)}  ${oneLine(c.id)}: ${oneLine(c.text)}`),
    `  ${countsLine(claims)}`,
  ];
}

export async function commandReport(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      out: { type: 'string' },
      site: { type: 'string' },
      commit: { type: 'boolean' },
      reports: { type: 'string' },
      diff: { type: 'string', multiple: true },
      claims: { type: 'string' },
      'no-svg': { type: 'boolean' },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('expected at least one run directory');
  if (values.out && positionals.length > 1) throw new UsageError('--out takes one run; give one run directory');
  if (values.reports && !values.commit) throw new UsageError('--reports only goes with --commit');
  const diffs = values.diff ?? [];
  if (diffs.length > 0 && !values.site) throw new UsageError('--diff only goes with --site');
  if (values['no-svg'] && !values.site) throw new UsageError('--no-svg only goes with --site');
  const claims = claimsOption(values.claims);
  if (values.commit) {
    const reportsDir = values.reports ?? 'reports';
    for (const runDir of positionals) {
      const { dir, changed } = await commitRun(runDir, reportsDir, claims);
      say(
        `run ${runDir} -> ${dir} (${changed} files changed); rebuild the site with: virtnet report ${join(reportsDir, 'runs')}/* --site ${join(reportsDir, 'site')}`,
      );
    }
  }
  if (values.site) {
    // The picker prints this command (plus --diff A:B) for a pair the site lacks.
    const command = [
      'virtnet',
      'report',
      ...positionals,
      '--site',
      values.site,
      ...diffs.flatMap((d) => ['--diff', d]),
      ...(values.claims ? ['--claims', values.claims] : []),
      ...(values['no-svg'] ? ['--no-svg'] : []),
    ];
    let result;
    try {
      result = await buildSite(positionals, values.site, {
        claims,
        log: (m) => say(m),
        diffs,
        command,
        svg: values['no-svg'] ? 'none' : 'render',
      });
    } catch (e) {
      if (e instanceof InputError && e.field === 'diff') throw new UsageError(phrase('--diff', e.problem));
      throw e;
    }
    for (const run of result.runs) {
      say(`claims of run ${run.runId}:`);
      for (const line of verdictLines(run.claims)) say(line);
    }
    for (const d of result.diffs)
      say(`diff ${d.pair.a} -> ${d.pair.b}: ${d.regressed} regressed, ${d.improved} improved: ${d.pagePath}`);
    say(
      `site: ${result.runs.length} runs, ${result.diffs.length} diffs, ${result.written} files written, ${result.rendered} charts rendered; index: ${result.indexPath}`,
    );
    return 0;
  }
  if (values.commit) return 0;
  for (const runDir of positionals) {
    const run = loadRun(runDir);
    const outDir = values.out ?? join(runDir, 'report');
    const report = await renderReport(run.manifest, run.results, claims);
    const changed = writeReportFiles(outDir, report.files);
    say(`report for run ${run.manifest.runId}: ${report.files.length} files in ${outDir} (${changed} changed)`);
    for (const line of verdictLines(report.analysis.claims, report.analysis.scope)) say(line);
  }
  return 0;
}

/** The end of `virtnet run` and `npm run reproduce`: report files, a one-run site, the verdicts. */
export async function reportAfterRun(
  runDir: string,
  log: (line: string) => void,
  claims: ClaimsFile = claimsOption(undefined),
): Promise<void> {
  const run = loadRun(runDir);
  const report = await renderReport(run.manifest, run.results, claims);
  writeReportFiles(join(runDir, 'report'), report.files);
  log(`  report: ${join(runDir, 'report')}`);
  const site = await buildSite([runDir], join(runDir, 'site'), { claims });
  for (const line of runEndLines(report.analysis)) log(line);
  log(`\n  site: ${site.indexPath}`);
}

const fixed = (v: HeadlineValue | undefined, digits: number, unit = ''): string =>
  v === undefined ? 'n/a' : `${v.value.toFixed(digits)}${unit}`;

/**
 * What a run ends with in the terminal: the throughput per environment (the history's headline
 * metrics), its server CPU per gigabyte where recorded, then the claims this run could judge with their finding, the others counted, and the
 * counts line. The whole list is in the report's claims.md.
 */
export function runEndLines(analysis: Pick<RunAnalysis, 'points' | 'roundTrips' | 'claims'>): string[] {
  const roundTrips = Object.fromEntries(Object.entries(analysis.roundTrips).map(([e, rt]) => [e, rt.tcpMicroseconds]));
  const headline = headlineMetrics(analysis.points, roundTrips);
  const width = Math.max(0, ...headline.map((h) => h.environment.length));
  const lines = ['', 'throughput per environment (10^6 bits/s; UDP okay rate received/sent):'];
  for (const { environment, metrics: m } of headline) {
    lines.push(
      `  ${oneLine(environment).padEnd(width)}  TCP mean 0-6000 B ${fixed(m['tcp-mean'], 2)}, plateau ${fixed(m['tcp-plateau'], 2)}` +
        `; UDP <= ${UDP_SMALL_MAX} B ${fixed(m['udp-small'], 2)}, >= ${UDP_LARGE_MIN} B ${fixed(m['udp-large'], 2)}` +
        `, okay rate ${fixed(m['udp-ok'], 4)}; round trip ${fixed(m.rtt, 0, ' us')}`,
    );
  }
  const costed = headline.filter((h) => h.metrics['tcp-cpu'] || h.metrics['udp-cpu']);
  if (costed.length > 0) {
    lines.push('', 'server CPU per gigabyte delivered (CPU-seconds per 10^9 bytes, mean over the points):');
    for (const { environment, metrics: m } of costed)
      lines.push(
        `  ${oneLine(environment).padEnd(width)}  TCP ${fixed(m['tcp-cpu'], 3)}, UDP ${fixed(m['udp-cpu'], 3)}`,
      );
  }
  const judged = analysis.claims.filter(judgedHere);
  const others = analysis.claims.length - judged.length;
  lines.push('', `claims of the paper this run could judge (${judged.length} of ${analysis.claims.length}):`);
  const labelWidth = Math.max(0, ...judged.map((c) => verdictLabel(c).length));
  for (const c of judged)
    lines.push(`  ${verdictLabel(c).padEnd(labelWidth)}  ${oneLine(c.id)}: ${oneLine(oneLineFinding(c))}`);
  if (others > 0)
    lines.push(
      `  ${plural(others, 'other claim')} not judged here (an environment not measured, or TCG): see claims.md`,
    );
  lines.push(`  ${countsLine(analysis.claims)}`);
  return lines;
}
