#!/usr/bin/env node
// The README's verdict table, made from a committed run's analysis.json so that it says exactly
// what the run's report says: each of the paper's claims (its words hold the paper's number), our
// verdict, and our key number (the first measured figure of the verdict's evidence, without the
// run-wide conditions that the report states once). scripts/readme-verdicts.unit.test.ts checks that the table in
// the README is this script's output for the run its marker names.
// Usage: node scripts/readme-verdicts.ts reports/runs/<runId>

import { join } from 'node:path';
import type { ClaimResult } from '../actions/lib/analyse/claims/judge.ts';
import { verdictLabel } from '../actions/lib/analyse/claims/judge.ts';
import { MiB, readRegularFile } from '../actions/lib/core/safe-read.ts';
import { mdText } from '../actions/lib/core/text.ts';

/** Sentences that state a run-wide condition rather than a number: the report opens with them. */
const CONDITION = /^(Not measured in this run: [^.]*\.|[^.]*? ran under TCG \(QEMU's software emulation\), not KVM:[^.]*\.)\s*/;

export function keyNumber(evidence: string, max = 180): string {
  let rest = evidence;
  for (let i = 0; i < 4 && CONDITION.test(rest); i++) rest = rest.replace(CONDITION, '');
  const first = rest.split(/(?<=\.)\s+(?=[A-Za-z])/)[0] ?? rest;
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

export function verdictTable(claims: readonly ClaimResult[]): string {
  const rows = claims.map((c) => `| ${mdText(c.section)} | ${mdText(c.text)} | ${mdText(verdictLabel(c))} | ${mdText(keyNumber(c.evidence))} |`);
  return ['| section | the paper says | verdict | our key number |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function readmeVerdictTable(runDir: string): string {
  const analysis = JSON.parse(readRegularFile(join(runDir, 'analysis.json'), { maxBytes: 64 * MiB })) as { claims: ClaimResult[] };
  return verdictTable(analysis.claims);
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/readme-verdicts.ts reports/runs/<runId>');
    process.exit(2);
  }
  console.log(readmeVerdictTable(dir));
}
