#!/usr/bin/env node
// The README's verdict table, made from a committed run's analysis.json so that it says exactly
// what the run's report says: the counts, then each of the paper's claims (its words hold the
// paper's number), our verdict and what the run shows in plain words, whole (never cut: the
// statistics follow in the finding, the full evidence is one link away in the run's claims.md).
// scripts/readme-verdicts.unit.test.ts checks that the table in the README is this script's output
// for the run its marker names.
// Usage: node scripts/readme-verdicts.ts reports/runs/<runId>

import { join } from 'node:path';
import type { ClaimResult } from '../actions/lib/analyse/claims/judge.ts';
import { countsLine, verdictLabel } from '../actions/lib/analyse/claims/judge.ts';
import { MiB, readRegularFile } from '../actions/lib/core/safe-read.ts';
import { mdText } from '../actions/lib/core/escape.ts';

type Judged = Pick<ClaimResult, 'section' | 'text' | 'verdict' | 'qualifier' | 'onlyTcg' | 'finding' | 'limits'>;

/** What the run shows for one claim: the finding, then what the testbed cannot show. */
export function findingCell(c: Judged): string {
  return [c.finding, ...(c.limits.length ? [`Cannot show here: ${c.limits.join(' ')}`] : [])].join(' ');
}

/** The counts, then one row per claim; `evidence` is where the full evidence is (the run's claims.md). */
export function verdictTable(claims: readonly Judged[], evidence: string): string {
  const rows = claims.map(
    (c) => `| ${mdText(c.section)} | ${mdText(c.text)} | ${mdText(verdictLabel(c))} | ${mdText(findingCell(c))} |`,
  );
  return [
    `**${countsLine(claims)}.** The evidence of each, its conditions and how it is judged: [claims.md](${evidence}).`,
    '',
    '| section | the paper says | verdict | what this run shows |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The table for a committed run directory (reports/runs/<runId>), linking its claims.md. */
export function readmeVerdictTable(runDir: string, linkDir = runDir): string {
  const analysis = JSON.parse(readRegularFile(join(runDir, 'analysis.json'), { maxBytes: 64 * MiB })) as {
    claims: Judged[];
  };
  return verdictTable(analysis.claims, `${linkDir.replace(/\/+$/, '')}/claims.md`);
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/readme-verdicts.ts reports/runs/<runId>');
    process.exit(2);
  }
  console.log(readmeVerdictTable(dir));
}
