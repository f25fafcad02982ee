// Markdown for GitHub job summaries: progress counts, a compact table (one row per point, one column
// per environment), and the failed points with netperf's error. Pure; strings from records and the
// manifest go through core/escape.ts, so a hostile value cannot break a table or carry markup.

import { summarizePoints } from '../analyse/aggregate.ts';
import type { Manifest, MeasurementRecord } from '../measure/records.ts';
import { latestRecords } from '../measure/records.ts';
import { mdCode, mdText } from '../core/escape.ts';
import { parameterFlag } from '../plan/plan.ts';
import { precisionReached } from '../analyse/precision.ts';
import { precisionTable, tableMarkdown } from '../analyse/tables.ts';
import { countVerdicts, verdictLabel, type ClaimResult } from '../analyse/claims/judge.ts';
import { judgedHere, oneLineFinding } from './findings.ts';

/** Outside text in a cell or a line of markdown (core/escape.ts's mdText). */
export const mdCell = mdText;

const flag = parameterFlag;

export interface ProgressCounts {
  status: Manifest['status'];
  measured: number;
  failed: number;
  missing: number;
  planned: number;
}

/** The compact table: rows are points (test, parameter value), columns environments: mean Mbit/s (n). */
export function compactTable(records: readonly MeasurementRecord[], maxRows = 60): string {
  const points = summarizePoints(records);
  if (points.length === 0) return '_No measurements yet._\n';
  // Columns in the order the environments were measured.
  const environments = [...new Set(records.map((r) => r.environment))];
  const rows = new Map<string, { label: string; cells: Map<string, string> }>();
  for (const p of points) {
    const key = `${p.test}\u0000${p.series}\u0000${String(p.value).padStart(10, '0')}`;
    const row = rows.get(key) ?? {
      label: `${p.test} ${flag(p.parameter)} ${p.value}`,
      cells: new Map<string, string>(),
    };
    const mean =
      p.throughput.n > 0
        ? `${p.throughput.mean.toFixed(2)}${p.throughput.ciHalfWidth !== null ? ` ±${p.throughput.ciHalfWidth.toFixed(2)}` : ''}`
        : '—';
    row.cells.set(p.environment, `${mean}${p.failed > 0 ? ` (${p.failed} failed)` : ''}`);
    rows.set(key, row);
  }
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  const lines = [
    `| point | ${environments.map(mdCell).join(' | ')} |`,
    `|---|${environments.map(() => '---:').join('|')}|`,
  ];
  for (const r of sorted.slice(0, maxRows))
    lines.push(`| ${mdCell(r.label)} | ${environments.map((e) => mdCell(r.cells.get(e) ?? '')).join(' | ')} |`);
  if (sorted.length > maxRows)
    lines.push(`| … ${sorted.length - maxRows} more points | ${environments.map(() => '').join(' | ')} |`);
  return `${lines.join('\n')}\n\nThroughput in Mbit/s: mean over replicates, ± half the 95% confidence interval when there are several.\n`;
}

export function failedPoints(records: readonly MeasurementRecord[], max = 30): string {
  const failed = latestRecords(records).filter((r) => r.status === 'failed');
  if (failed.length === 0) return '';
  const lines = ['| environment | point | replicate | error |', '|---|---|---:|---|'];
  for (const r of failed.slice(0, max))
    lines.push(
      `| ${mdCell(r.environment)} | ${mdCell(`${r.test} ${flag(r.parameter)} ${r.value}`)} | ${r.replicate} | ${mdCell((r.error ?? '').slice(0, 200))} |`,
    );
  if (failed.length > max) lines.push(`| … | ${failed.length - max} more | | |`);
  return `${lines.join('\n')}\n`;
}

export function sweepSummary(options: {
  manifest: Manifest;
  records: readonly MeasurementRecord[];
  counts: ProgressCounts;
  environment: string;
  artifact: string;
}): string {
  const { manifest, records, counts } = options;
  const out: string[] = [];
  out.push(`## virtnet sweep: ${mdCell(options.environment)} (${mdCell(counts.status)})\n`);
  out.push(
    `Run ${mdCode(manifest.runId)}, plan **${mdCell(manifest.plan.name)}**, environments so far: ${manifest.environments.map(mdCell).join(', ')}.\n`,
  );
  out.push(
    `| measured now | failed now | still missing | planned (whole run) |\n|---:|---:|---:|---:|\n| ${counts.measured} | ${counts.failed} | ${counts.missing} | ${counts.planned} |\n`,
  );
  for (const [env, error] of Object.entries(manifest.environmentErrors))
    out.push(`> **${mdCell(env)}**: ${mdCell(error)}\n`);
  const tcg = Object.values(manifest.environmentDescriptions)
    .filter((d) => d.accelerator === 'tcg')
    .map((d) => d.name);
  if (tcg.length > 0)
    out.push(`> **TCG**: ${tcg.map(mdCell).join(', ')} ran under software emulation: not KVM numbers.\n`);
  out.push('### Results\n');
  out.push(compactTable(records));
  // The precision reached so far, per environment measured, beside the plan's target.
  const environments = [...new Set(records.map((r) => r.environment))];
  if (environments.length > 0)
    out.push(
      tableMarkdown(
        precisionTable(
          precisionReached(summarizePoints(records), environments),
          manifest.plan.precision?.halfWidthPercent ?? null,
          manifest,
        ),
      ),
    );
  const failed = failedPoints(records);
  if (failed) out.push(`### Failed points\n\n${failed}`);
  out.push(`\nRun directory artifact: ${mdCell(options.artifact)}\n`);
  return out.join('\n');
}

/** The figure a job summary shows (Fig. 4a, the paper's first TCP figure): its chart id in a run's report. */
export const KEY_FIGURE = 'fig4a-tcp-absolute-from-100';

/** A mark beside each verdict, so a reader scanning the summary sees it before reading the word. */
export const VERDICT_MARK: Record<ClaimResult['verdict'], string> = {
  supported: '✅',
  refuted: '❌',
  inconclusive: '⚪',
};

export interface ClaimsSummaryLinks {
  /** The run's page on the published site (absolute URL), when the site is published. */
  runPageUrl?: string | null;
  /** The key figure's SVG on the published site: GitHub shows an image only from a URL, not from the runner's disk. */
  figureUrl?: string | null;
}

/**
 * The claims in a job summary, findings first: the counts with their marks, the claims this run could
 * judge with their one-line finding, then (collapsed) the claims it could not, a link to the run's
 * page and the key figure. The whole evidence is in the run's claims.md and on its page.
 */
export function claimsSummary(claims: readonly ClaimResult[], links: ClaimsSummaryLinks = {}): string {
  const c = countVerdicts(claims);
  const out: string[] = [];
  out.push(
    `**${VERDICT_MARK.supported} ${c.supported} supported · ${VERDICT_MARK.refuted} ${c.refuted} refuted · ${VERDICT_MARK.inconclusive} ${c.inconclusive} inconclusive** of ${claims.length} claim${claims.length === 1 ? '' : 's'}${c.onlyTcg ? ` (${c.onlyTcg} inconclusive only because a guest ran under TCG)` : ''}.`,
    '',
  );
  if (links.runPageUrl)
    out.push(`[The run's page: figures, every claim with its evidence, tables](${links.runPageUrl})`, '');
  if (links.figureUrl) out.push(`![Fig. 4a: TCP_STREAM throughput vs send socket size](${links.figureUrl})`, '');
  const judged = claims.filter(judgedHere);
  const rest = claims.filter((x) => !judgedHere(x));
  const row = (x: ClaimResult) =>
    `| ${VERDICT_MARK[x.verdict]} ${mdCell(verdictLabel(x))} | ${mdCell(x.text)} | ${mdCell(oneLineFinding(x))} |`;
  if (judged.length) out.push('| verdict | claim | finding |', '|---|---|---|', ...judged.map(row), '');
  else
    out.push(
      '_No claim could be judged on this run: the environments they need were not measured or ran under TCG._',
      '',
    );
  if (rest.length) {
    // An HTML block: GitHub reads no markdown inside <summary>, so its text is escaped as HTML (mdCell does).
    out.push(
      `<details><summary>${rest.length} claim${rest.length === 1 ? '' : 's'} this run could not judge</summary>`,
      '',
    );
    out.push(
      '| verdict | claim | why |',
      '|---|---|---|',
      ...rest.map(
        (x) =>
          `| ${VERDICT_MARK[x.verdict]} ${mdCell(verdictLabel(x))} | ${mdCell(x.text)} | ${mdCell(x.missing.length ? `not measured: ${x.missing.join(', ')}` : oneLineFinding(x))} |`,
      ),
      '',
      '</details>',
      '',
    );
  }
  return out.join('\n');
}
